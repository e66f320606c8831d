// libcrypt (libxcrypt on Debian): crypt_r with bcrypt ($2y$, $2b$, $2a$). Linux only; the
// exporter's basic auth fails closed elsewhere.
#if __has_include(<crypt.h>)
#include <crypt.h>
#endif
