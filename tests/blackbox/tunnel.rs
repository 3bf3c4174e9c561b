//! Reaching the listener from outside: the tunnel modes and the connection self-test, against
//! a real reverse proxy (nginx on loopback) and a stand-in for cloudflared.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use kanca_tests::{event_json, kanca, kanca_ok, workspace_root, Creds, Server, Workdir};

fn write_tunnel_config(data_dir: &Path, tunnel: &str) {
    std::fs::create_dir_all(data_dir).unwrap();
    std::fs::write(data_dir.join("config.toml"), format!("[tunnel]\n{tunnel}\n")).unwrap();
}

not_under_wine! {
    "the stand-in for cloudflared is a shell script: Wine starts it as a Linux process, which has no Windows process handle to wait on or put in Kanca's Job Object",
    #[test]
    fn cloudflared_url_is_read_shown_and_the_tunnel_restarts_after_it_dies() {
        let work = Workdir::new();
        let state = work.tmp.path().join("fake-cloudflared");
        std::fs::create_dir_all(&state).unwrap();
        let fake = workspace_root().join("tests/support/bin/fake-cloudflared");
        write_tunnel_config(&work.data_dir(), &format!("mode = \"cloudflared\"\ncloudflared_path = {:?}", fake.display().to_string()));
        std::env::set_var("FAKE_CLOUDFLARED_DIR", &state);
        let server = Server::start_with_args(&work.data_dir(), Creds::Env, &[]);
        let (i, line) = server.wait_for_line("Tunnel (Cloudflared): online", 0, Duration::from_secs(20));
        assert!(line.contains("https://fake-tunnel-1.trycloudflare.com/webhook"), "{line}");
        assert!(line.contains("changes on every start"), "the user is told to paste it again: {line}");
        let args = std::fs::read_to_string(state.join("args")).unwrap();
        assert_eq!(args.trim(), format!("tunnel --no-autoupdate --url http://127.0.0.1:{}", server.port));

        // cloudflared dies: the status says so, the listener keeps answering, and a new one starts.
        let pid = std::fs::read_to_string(state.join("pid")).unwrap();
        assert!(Command::new("kill").arg(pid.trim()).status().unwrap().success());
        let (j, dropped) = server.wait_for_line("Tunnel (Cloudflared): dropped", i, Duration::from_secs(10));
        assert!(dropped.contains("cloudflared exited") && dropped.contains("retrying in"), "{dropped}");
        server.post_json(&event_json("call_init", "tun-1", 905321112233, 908508850000, "IN", 1_700_000_000_000_000).to_string()).expect_accepted();
        let (_, again) = server.wait_for_line("Tunnel (Cloudflared): online", j, Duration::from_secs(20));
        assert!(again.contains("https://fake-tunnel-2.trycloudflare.com/webhook"), "{again}");

        // Kanca killed outright: cloudflared does not outlive it.
        let pid = std::fs::read_to_string(state.join("pid")).unwrap().trim().to_string();
        let mut server = server;
        server.kill();
        let gone = (0..50).any(|_| {
            std::thread::sleep(Duration::from_millis(100));
            !Path::new(&format!("/proc/{pid}")).exists()
        });
        assert!(gone, "cloudflared {pid} still runs after kanca was killed");
    }
}

#[test]
fn a_missing_cloudflared_is_a_clear_failure_and_the_listener_runs_on() {
    let work = Workdir::new();
    write_tunnel_config(&work.data_dir(), "mode = \"cloudflared\"\ncloudflared_path = \"/nonexistent/cloudflared\"");
    let server = Server::start(&work.data_dir());
    let (_, line) = server.wait_for_line("Tunnel (Cloudflared): failed", 0, Duration::from_secs(10));
    assert!(line.contains("cloudflared is not installed"), "{line}");
    server.post_json(&event_json("call_init", "tun-2", 905321112233, 908508850000, "IN", 1_700_000_000_000_000).to_string()).expect_accepted();
}

#[test]
fn ngrok_without_network_fails_clearly_and_the_listener_runs_on() {
    let work = Workdir::new();
    write_tunnel_config(&work.data_dir(), "mode = \"ngrok\"\nngrok_authtoken = \"2kancaTESTsecretTOKEN\"");
    let server = Server::start(&work.data_dir());
    let (_, line) = server.wait_for_line("Tunnel (Ngrok): failed", 0, Duration::from_secs(60));
    assert!(line.contains("ngrok") && line.contains("retrying in"), "{line}");
    assert_eq!(server.get("/health").status, 200);
    server.post_json(&event_json("call_init", "tun-3", 905321112233, 908508850000, "IN", 1_700_000_000_000_000).to_string()).expect_accepted();
    // The token is never written to the logs.
    assert!(!server.log_text().contains("secretTOKEN"), "{}", server.log_text());
}

/// nginx on loopback, in front of `upstream`, logging to the work directory.
struct Nginx {
    child: Child,
    access_log: std::path::PathBuf,
}

impl Drop for Nginx {
    fn drop(&mut self) {
        // SIGTERM: the master stops its workers too (SIGKILL would orphan them, still holding
        // the port).
        let _ = Command::new("kill").arg(self.child.id().to_string()).status();
        for _ in 0..50 {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn nginx(dir: &Path, port: u16, upstream_port: u16) -> Nginx {
    std::fs::create_dir_all(dir.join("logs")).unwrap();
    let access_log = dir.join("logs/access.log");
    let conf = format!(
        "daemon off;\nworker_processes 1;\npid {dir}/nginx.pid;\nerror_log {dir}/logs/error.log;\n\
         events {{ worker_connections 64; }}\n\
         http {{\n  access_log {log};\n  client_body_temp_path {dir}/body;\n  proxy_temp_path {dir}/proxy;\n\
           fastcgi_temp_path {dir}/fastcgi;\n  uwsgi_temp_path {dir}/uwsgi;\n  scgi_temp_path {dir}/scgi;\n\
           server {{\n    listen 127.0.0.1:{port};\n    location / {{\n      proxy_pass http://127.0.0.1:{upstream_port};\n\
               proxy_set_header Host $host;\n      proxy_set_header X-Forwarded-For $remote_addr;\n    }}\n  }}\n}}\n",
        dir = dir.display(),
        log = access_log.display(),
    );
    let conf_path = dir.join("nginx.conf");
    std::fs::write(&conf_path, conf).unwrap();
    let nginx_bin = ["/usr/sbin/nginx", "/usr/bin/nginx"].into_iter().find(|p| Path::new(p).exists()).expect("nginx (tests/run.sh installs nginx-light)");
    let mut child = Command::new(nginx_bin)
        .arg("-c")
        .arg(&conf_path)
        .arg("-p")
        .arg(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start nginx");
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Nginx { child, access_log };
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    // Not left running behind a failed test.
    let _ = child.kill();
    let _ = child.wait();
    panic!("nginx did not start: {}", std::fs::read_to_string(dir.join("logs/error.log")).unwrap_or_default());
}

#[test]
fn own_url_through_a_reverse_proxy_passes_the_self_test() {
    let work = Workdir::new();
    let proxy_port = free_port();
    let public = format!("http://127.0.0.1:{proxy_port}");
    // The user's own URL: `kanca serve --public-url` (the desktop app keeps it in config.toml).
    let server = Server::start_with_args(&work.data_dir(), Creds::Config, &["--public-url", &public]);
    let proxy = nginx(&work.tmp.path().join("nginx"), proxy_port, server.port);
    let (_, line) = server.wait_for_line("Tunnel (OwnUrl): online", 0, Duration::from_secs(10));
    assert!(line.contains(&format!("{public}/webhook")), "{line}");

    let out = kanca(&work.data_dir(), &["self-test", "--json", "--url", &public]);
    let result: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {out:?}"));
    assert!(out.status.success(), "{result}");
    assert_eq!(result["ok"], true, "{result}");
    // A new install posts in the one-paste form, as the guide shows it.
    let creds: serde_json::Value = serde_json::from_str(kanca_ok(&work.data_dir(), &["credentials", "--json"]).trim()).unwrap();
    assert_eq!(result["url"], format!("{public}/webhook/{}", creds["secret"].as_str().unwrap()));
    assert_eq!(result["http_status"], 200);
    assert!(result["round_trip_ms"].as_u64().is_some());
    let uuid = result["uuid"].as_str().unwrap().to_string();
    // It went through the proxy, and it is a test, not a call.
    let access = std::fs::read_to_string(&proxy.access_log).unwrap();
    assert!(access.contains("POST /webhook"), "{access}");
    let shown = kanca_tests::show(&work.data_dir(), &uuid);
    assert_eq!(shown["test"], true, "{shown}");

    // A proxy that cannot reach the listener: a plain failure, not a success.
    drop(server);
    let out = kanca(&work.data_dir(), &["self-test", "--url", &public]);
    assert!(!out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("FAILED") && text.contains("could not reach Kanca's listener (HTTP 502)"), "{text}");
}
