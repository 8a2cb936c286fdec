/* dns.h -- private: name resolution with c-ares on the runtime. A per-run cache
 * honours TTLs and merges concurrent lookups of one name into one query. */
#ifndef ACR_TRANSPORT_DNS_H
#define ACR_TRANSPORT_DNS_H

#include <stddef.h>
#include <stdint.h>

#include "net.h"

typedef struct acr_dns acr_dns;

/* servers: NULL for the system's, or "ip[:port],[ip6]:port,...". 0, ACR_EDNS, -ENOMEM. */
int acr_dns_new(acr_dns **out, const char *servers, char *err, size_t errlen);
void acr_dns_free(acr_dns *d);
/* curl's --resolve: "host:port:addr[,addr...]" (IPv6 in brackets). 0, or -EINVAL
 * with the reason in err. */
int acr_dns_add_override(acr_dns *d, const char *spec, char *err, size_t errlen);
/* Addresses of host with port set, IPv6 and IPv4 interleaved for happy eyeballs.
 * IP literals and overrides need no query. 0, ACR_EDNS (with c-ares' reason),
 * ACR_ETIMEOUT, ACR_ECANCELED. */
int acr_dns_resolve(acr_dns *d, const char *host, uint16_t port, int64_t deadline, acr_addrs *out,
                    char *err, size_t errlen);
/* Lookups sent to c-ares so far (cache misses). */
size_t acr_dns_lookups(const acr_dns *d);
const char *acr_dns_version(void);

#endif
