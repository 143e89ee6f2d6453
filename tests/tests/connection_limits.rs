//! `[limits]`' connection and message-size settings reach the running director: a worker's
//! connection cap, the idle timeout and the largest datagram, each against real sockets.

use std::io::{ErrorKind, Read};
use std::net::TcpStream;
use std::time::Duration;

use system_tests::http::post;
use system_tests::sip_client::{
    parse_answer, read_stream_message, register, tcp_connect, tcp_send, udp_exchange, udp_socket,
};
use system_tests::{Director, Topology};

fn start(limits: &str) -> Director {
    let topo = Topology::ring(2, 2, false);
    let text = topo.to_toml(&[("127.0.0.1:0", "udp"), ("127.0.0.1:0", "tcp")], 1);
    Director::start(&format!("{text}\n[limits]\n{limits}\n"))
}

/// A REGISTER over `s` and its status code (`None`: the connection closed or was silent).
fn tcp_register(s: &mut TcpStream, n: u64) -> Option<u16> {
    let local = s.local_addr().expect("local address");
    tcp_send(
        s,
        register(&format!("sip:c{n}@example.com"), local, "TCP", n).as_bytes(),
    );
    read_stream_message(s, &mut Vec::new()).map(|raw| parse_answer(&raw).code)
}

/// Whether the director closed `s` (end of stream or reset) before `within` ran out.
fn closed_within(s: &mut TcpStream, within: Duration) -> bool {
    s.set_read_timeout(Some(within)).expect("timeout");
    let mut buf = [0u8; 512];
    match s.read(&mut buf) {
        Ok(0) => true,
        Ok(n) => panic!(
            "unexpected {n} bytes: {:?}",
            String::from_utf8_lossy(&buf[..n])
        ),
        Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => false,
        Err(_) => true, // reset
    }
}

#[test]
fn a_worker_takes_max_connections_per_worker_and_closes_the_next_at_once() {
    let director = start("max_connections_per_worker = 2");
    let mut a = tcp_connect(director.tcp());
    let mut b = tcp_connect(director.tcp());
    assert_eq!(tcp_register(&mut a, 1), Some(301));
    assert_eq!(tcp_register(&mut b, 2), Some(301));
    let mut c = tcp_connect(director.tcp());
    assert!(
        closed_within(&mut c, Duration::from_secs(5)),
        "a third connection on one worker stayed open"
    );
    // The two held ones are unaffected; once one goes, there is room again.
    assert_eq!(tcp_register(&mut a, 3), Some(301));
    drop(b);
    let mut d = None;
    for n in 0..50 {
        let mut s = tcp_connect(director.tcp());
        if tcp_register(&mut s, 10 + n) == Some(301) {
            d = Some(s);
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(d.is_some(), "no room after a connection closed");
    assert!(director.stop().success());
}

#[test]
fn an_idle_connection_is_closed_after_idle_timeout_s() {
    let director = start("idle_timeout_s = 1");
    let mut s = tcp_connect(director.tcp());
    assert_eq!(tcp_register(&mut s, 1), Some(301));
    assert_eq!(tcp_register(&mut s, 2), Some(301), "open while in use");
    assert!(
        closed_within(&mut s, Duration::from_secs(10)),
        "idle for 10 s with idle_timeout_s = 1 and still open"
    );
    assert!(director.stop().success());
}

#[test]
fn a_datagram_over_max_message_bytes_is_not_answered() {
    let strict = start("max_message_bytes = 1300");
    let plain = start("");
    let sock = udp_socket();
    let local = sock.local_addr().expect("local address");
    let padded = |n: u64| {
        register(&format!("sip:big{n}@example.com"), local, "UDP", n).replacen(
            "Expires:",
            &format!("X-Pad: {}\r\nExpires:", "p".repeat(1400)),
            1,
        )
    };
    let small = register("sip:small@example.com", local, "UDP", 1);
    let answer = |d: &Director, msg: &str| {
        udp_exchange(&sock, d.udp(), msg.as_bytes()).map(|raw| parse_answer(&raw).code)
    };
    assert_eq!(
        answer(&plain, &padded(2)),
        Some(301),
        "the default takes 1.5 kB"
    );
    assert_eq!(answer(&strict, &small), Some(301));
    assert_eq!(answer(&strict, &padded(3)), None, "over max_message_bytes");
    assert_eq!(
        answer(&strict, &small),
        Some(301),
        "and the next one is served"
    );
    assert!(strict.stop().success());
    assert!(plain.stop().success());
}

#[test]
fn a_reload_that_changes_them_says_a_restart_is_needed_and_keeps_the_running_ones() {
    let topo = Topology::ring(2, 2, false);
    let base = topo.to_toml(&[("127.0.0.1:0", "udp"), ("127.0.0.1:0", "tcp")], 1)
        + "\n[admin]\naddress = \"127.0.0.1:0\"\n";
    let director = Director::start(&format!("{base}\n[limits]\nidle_timeout_s = 1\n"));
    let admin = director.listening.admin.expect("admin announced");
    std::fs::write(
        &director.config_path,
        format!("{base}\n[limits]\nidle_timeout_s = 300\n"),
    )
    .expect("write config");
    let (code, body) = post(admin, "/reload");
    assert_eq!(code, 200, "{body}");
    director.log_until(
        "reload: limits.idle_timeout_s changed; these take effect only after a restart",
        Duration::from_secs(5),
    );
    // The running engine still closes idle connections after 1 s.
    let mut s = tcp_connect(director.tcp());
    assert_eq!(tcp_register(&mut s, 1), Some(301));
    assert!(
        closed_within(&mut s, Duration::from_secs(10)),
        "the reload changed the running idle timeout"
    );
    assert!(director.stop().success());
}
