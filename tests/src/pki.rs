//! Throwaway certificate authorities for the TLS tests: a CA written as a PEM file, and leaf
//! certificates (with the subjectAltNames a test needs) signed by it, written as PEM
//! certificate and key files in the test's scratch directory.

use std::path::{Path, PathBuf};

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, SanType};

/// A test CA: its issuer (to sign leaves) and the PEM file of its certificate.
#[derive(Debug)]
pub struct TestCa {
    issuer: CertifiedIssuer<'static, KeyPair>,
    /// The CA certificate (PEM), to trust in a configuration.
    pub pem: PathBuf,
}

impl TestCa {
    /// A new CA named `name`, its certificate written to `dir/NAME-ca.pem`.
    pub fn new(dir: &Path, name: &str) -> TestCa {
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("params");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(DnType::CommonName, format!("{name} test CA"));
        let issuer =
            CertifiedIssuer::self_signed(params, KeyPair::generate().expect("key")).expect("CA");
        let pem = dir.join(format!("{name}-ca.pem"));
        std::fs::write(&pem, issuer.pem()).expect("write CA");
        TestCa { issuer, pem }
    }

    /// A certificate with these subjectAltNames signed by this CA, written to
    /// `dir/TAG-cert.pem` and `dir/TAG-key.pem`; returns (certificate, key) files.
    pub fn leaf(&self, dir: &Path, tag: &str, sans: Vec<SanType>) -> (PathBuf, PathBuf) {
        let key = KeyPair::generate().expect("key");
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("params");
        params.subject_alt_names = sans;
        let cert = params.signed_by(&key, &self.issuer).expect("sign");
        let (c, k) = (
            dir.join(format!("{tag}-cert.pem")),
            dir.join(format!("{tag}-key.pem")),
        );
        std::fs::write(&c, cert.pem()).expect("write cert");
        std::fs::write(&k, key.serialize_pem()).expect("write key");
        (c, k)
    }

    /// [`TestCa::leaf`] for one DNS name only (no IP address), tagged with that name.
    pub fn dns_leaf(&self, dir: &Path, name: &str) -> (PathBuf, PathBuf) {
        let san = SanType::DnsName(name.try_into().expect("DNS name"));
        self.leaf(dir, name, vec![san])
    }
}
