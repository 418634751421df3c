//! The TLS client configuration every outside connection shares (The Odds API, NBA.com,
//! PostgreSQL with `sslmode=verify-*`): aws-lc-rs for the cryptography and the public web roots
//! compiled in (webpki-roots). Built once per process, on first use, and never read from disk:
//! a cold Lambda start spends nothing on the system's certificate bundle.

use std::sync::{Arc, OnceLock};

use rustls::crypto::CryptoProvider;
use rustls::{ClientConfig, RootCertStore};

/// The cryptography of every TLS connection.
pub fn provider() -> Arc<CryptoProvider> {
    static PROVIDER: OnceLock<Arc<CryptoProvider>> = OnceLock::new();
    PROVIDER
        .get_or_init(|| Arc::new(rustls::crypto::aws_lc_rs::default_provider()))
        .clone()
}

/// The public web roots.
pub fn roots() -> Arc<RootCertStore> {
    static ROOTS: OnceLock<Arc<RootCertStore>> = OnceLock::new();
    ROOTS
        .get_or_init(|| {
            Arc::new(RootCertStore {
                roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
            })
        })
        .clone()
}

/// A client configuration that verifies servers against [`roots`], offering `alpn` (for HTTP
/// clients, `h2` and `http/1.1`; empty for PostgreSQL).
pub fn verifying_config(alpn: &[&[u8]]) -> ClientConfig {
    let mut config = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .expect("aws-lc-rs supports the default TLS versions")
        .with_root_certificates(roots())
        .with_no_client_auth();
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    config
}

/// The configuration of the HTTP clients: verified, HTTP/2 or HTTP/1.1.
pub fn http_config() -> ClientConfig {
    verifying_config(&[b"h2", b"http/1.1"])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roots_are_built_once_and_shared() {
        assert!(Arc::ptr_eq(&roots(), &roots()));
        assert!(roots().len() > 100);
        assert_eq!(
            http_config().alpn_protocols,
            [b"h2".to_vec(), b"http/1.1".to_vec()]
        );
        assert!(verifying_config(&[]).alpn_protocols.is_empty());
    }
}
