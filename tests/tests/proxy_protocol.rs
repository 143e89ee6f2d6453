//! The real director behind an L4 balancer: a TCP listener with `proxy_protocol = true` takes
//! the client address from the PROXY header (v1 or v2), so the 301's top Via shows the real
//! client in `received`/`rport`; a connection without the header gets no answer.

use std::io::Read;
use std::time::Duration;

use system_tests::sip_client::{
    parse_answer, read_stream_message, register, tcp_connect, tcp_send,
};
use system_tests::{Director, Topology};

fn start() -> Director {
    let toml = Topology::ring(2, 2, false).to_toml(&[("127.0.0.1:0", "tcp")], 1);
    let toml = toml.replacen(
        "transport = \"tcp\"\n",
        "transport = \"tcp\"\nproxy_protocol = true\nproxy_protocol_from = [\"127.0.0.0/8\"]\n",
        1,
    );
    assert!(toml.contains("proxy_protocol = true"), "{toml}");
    Director::start(&toml)
}

/// A v2 PROXY header (PROXY command, TCP over IPv4) for 198.51.100.9:41000 -> 192.0.2.1:5060.
fn v2_header() -> Vec<u8> {
    let mut v = b"\r\n\r\n\0\r\nQUIT\n\x21\x11\x00\x0c".to_vec();
    v.extend_from_slice(&[198, 51, 100, 9, 192, 0, 2, 1]);
    v.extend_from_slice(&41000u16.to_be_bytes());
    v.extend_from_slice(&5060u16.to_be_bytes());
    v
}

#[test]
fn via_received_and_rport_show_the_proxied_client() {
    let director = start();

    // v1, header and REGISTER in one write.
    let mut s = tcp_connect(director.tcp());
    let local = s.local_addr().unwrap();
    let mut first = b"PROXY TCP4 203.0.113.7 192.0.2.1 40000 5060\r\n".to_vec();
    first.extend_from_slice(register("sip:alice@example.com", local, "TCP", 1).as_bytes());
    tcp_send(&mut s, &first);
    let mut pending = Vec::new();
    let a = parse_answer(&read_stream_message(&mut s, &mut pending).expect("301"));
    assert_eq!(a.code, 301);
    assert_eq!(
        a.header("via"),
        Some(
            format!("SIP/2.0/TCP {local};branch=z9hG4bK-t1;received=203.0.113.7;rport=40000")
                .as_str()
        )
    );
    // Later requests on the connection keep the proxied address.
    tcp_send(
        &mut s,
        register("sip:bob@example.com", local, "TCP", 2).as_bytes(),
    );
    let a = parse_answer(&read_stream_message(&mut s, &mut pending).expect("301"));
    assert_eq!(
        a.header("via"),
        Some(
            format!("SIP/2.0/TCP {local};branch=z9hG4bK-t2;received=203.0.113.7;rport=40000")
                .as_str()
        )
    );

    // v2, header sent on its own first.
    let mut s = tcp_connect(director.tcp());
    let local = s.local_addr().unwrap();
    tcp_send(&mut s, &v2_header());
    std::thread::sleep(Duration::from_millis(20));
    tcp_send(
        &mut s,
        register("sip:carol@example.com", local, "TCP", 3).as_bytes(),
    );
    let mut pending = Vec::new();
    let a = parse_answer(&read_stream_message(&mut s, &mut pending).expect("301"));
    assert_eq!(a.code, 301);
    assert_eq!(
        a.header("via"),
        Some(
            format!("SIP/2.0/TCP {local};branch=z9hG4bK-t3;received=198.51.100.9;rport=41000")
                .as_str()
        )
    );

    // No header: closed without an answer.
    let mut s = tcp_connect(director.tcp());
    let local = s.local_addr().unwrap();
    tcp_send(
        &mut s,
        register("sip:dave@example.com", local, "TCP", 4).as_bytes(),
    );
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut rest = Vec::new();
    let _ = s.read_to_end(&mut rest);
    assert!(rest.is_empty(), "{}", String::from_utf8_lossy(&rest));
    assert!(director.stop().success());
}
