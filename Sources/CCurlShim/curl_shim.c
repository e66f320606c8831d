#define _GNU_SOURCE
#include <time.h>
#include <string.h>
#include "curl_shim.h"

CURLcode cm_curl_setopt_long(CURL *handle, CURLoption option, long value) {
    return curl_easy_setopt(handle, option, value);
}

CURLcode cm_curl_setopt_string(CURL *handle, CURLoption option, const char *value) {
    return curl_easy_setopt(handle, option, value);
}

CURLcode cm_curl_setopt_pointer(CURL *handle, CURLoption option, void *value) {
    return curl_easy_setopt(handle, option, value);
}

CURLcode cm_curl_setopt_slist(CURL *handle, CURLoption option, struct curl_slist *value) {
    return curl_easy_setopt(handle, option, value);
}

CURLcode cm_curl_setopt_off_t(CURL *handle, CURLoption option, curl_off_t value) {
    return curl_easy_setopt(handle, option, value);
}

CURLcode cm_curl_setopt_callback(CURL *handle, CURLoption option, cm_curl_data_callback callback) {
    return curl_easy_setopt(handle, option, callback);
}

CURLcode cm_curl_getinfo_long(CURL *handle, CURLINFO info, long *value) {
    return curl_easy_getinfo(handle, info, value);
}

int cm_parse_http_date(const char *text, long long *seconds) {
    struct tm parts;
    memset(&parts, 0, sizeof parts);
    const char *end = strptime(text, "%a, %d %b %Y %H:%M:%S GMT", &parts);
    if (end == NULL) return -1;
    *seconds = (long long)timegm(&parts);
    return 0;
}
