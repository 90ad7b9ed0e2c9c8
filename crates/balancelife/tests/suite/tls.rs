//! Throwaway certificates for the TLS tests.

use balancelife_testkit::servers::mongo::TlsFiles;

/// A throwaway CA and a server certificate for 127.0.0.1 signed by it.
pub fn make_tls(dir: &std::path::Path, label: &str) -> (TlsFiles, std::path::PathBuf) {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca_params, ca_key);
    let server_key = KeyPair::generate().unwrap();
    let server_cert = CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
        .unwrap()
        .signed_by(&server_key, &issuer)
        .unwrap();
    let files = TlsFiles {
        cert: dir.join(format!("{label}-server.pem")),
        key: dir.join(format!("{label}-server.key")),
    };
    let ca = dir.join(format!("{label}-ca.pem"));
    std::fs::write(&files.cert, server_cert.pem()).unwrap();
    std::fs::write(&files.key, server_key.serialize_pem()).unwrap();
    std::fs::write(&ca, ca_cert.pem()).unwrap();
    (files, ca)
}
