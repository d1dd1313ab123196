/* Built only when libpq is linked statically against OpenSSL 3 (see binding.gyp).
 *
 * The static libpq that pqnode's prebuilt binaries link was compiled against OpenSSL 1.1,
 * which had SSL_get_peer_certificate as a function; OpenSSL 3 renamed it
 * SSL_get1_peer_certificate (same contract: the caller owns a reference) and kept the old
 * name only as a macro. libpq's object code calls the old name, so it is provided here. */
#include <openssl/ssl.h>

#undef SSL_get_peer_certificate

X509* SSL_get_peer_certificate(const SSL* ssl);

X509* SSL_get_peer_certificate(const SSL* ssl) { return SSL_get1_peer_certificate(ssl); }
