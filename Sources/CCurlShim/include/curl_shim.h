// Typed wrappers for libcurl's variadic curl_easy_setopt / curl_easy_getinfo, which Swift
// cannot call directly.
#ifndef CONVEYOR_CURL_SHIM_H
#define CONVEYOR_CURL_SHIM_H

#include <curl/curl.h>

typedef size_t (*cm_curl_data_callback)(char *data, size_t size, size_t count, void *userdata);

CURLcode cm_curl_setopt_long(CURL *handle, CURLoption option, long value);
CURLcode cm_curl_setopt_string(CURL *handle, CURLoption option, const char *value);
CURLcode cm_curl_setopt_pointer(CURL *handle, CURLoption option, void *value);
CURLcode cm_curl_setopt_slist(CURL *handle, CURLoption option, struct curl_slist *value);
CURLcode cm_curl_setopt_off_t(CURL *handle, CURLoption option, curl_off_t value);
CURLcode cm_curl_setopt_callback(CURL *handle, CURLoption option, cm_curl_data_callback callback);
CURLcode cm_curl_getinfo_long(CURL *handle, CURLINFO info, long *value);



// Parses an HTTP date (IMF-fixdate, e.g. "Wed, 21 Oct 2015 07:28:00 GMT") for Retry-After.
// Returns 0 and stores Unix seconds in *seconds on success, -1 otherwise.
int cm_parse_http_date(const char *text, long long *seconds);
#endif
