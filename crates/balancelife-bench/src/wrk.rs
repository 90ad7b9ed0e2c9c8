//! `wrk` as the HTTP load generator when it is installed: one thread of C with an
//! event loop costs the machine far less per request than the in-process clients,
//! so on two cores the service, not the load generator, is what gets measured.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use anyhow::Context;

use crate::measure::Stats;

/// Whether `wrk` can be run.
pub fn available() -> bool {
    Command::new("wrk")
        .arg("--version")
        .output()
        .is_ok_and(|output| !output.stdout.is_empty() || !output.stderr.is_empty())
}

/// What one `wrk` run sends, to which server process.
pub struct Load<'a> {
    /// The URL of every request, or with `script` the server's address.
    pub url: &'a str,
    /// Sent as a bearer token on every request `wrk` makes itself, if given.
    pub token: Option<&'a str>,
    pub connections: usize,
    pub duration: Duration,
    /// A Lua script that makes each request (`wrk -s`).
    pub script: Option<&'a Path>,
    /// The process serving, whose CPU time per request is reported.
    pub server: u32,
    /// What every answer must be.
    pub expect: Expect,
}

/// What a run's answers must all be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// 2xx.
    Success,
    /// 404 Not Found (a row for the cost of a route that does not exist).
    NotFound,
}

impl Expect {
    /// Whether an answer with `status` is what the run expects.
    pub fn accepts(self, status: u16) -> bool {
        match self {
            Self::Success => (200..300).contains(&status),
            Self::NotFound => status == 404,
        }
    }
}

/// One `wrk -t1` run of `load`: its rate and latencies, with the server's CPU time
/// per request beside them.
pub fn run(load: &Load<'_>) -> anyhow::Result<Stats> {
    let cpu_before = cpu_time(load.server)?;
    let mut command = Command::new("wrk");
    command
        .args(["-t1", &format!("-c{}", load.connections)])
        .arg(format!("-d{}s", load.duration.as_secs().max(1)))
        .arg("--latency");
    if let Some(token) = load.token {
        command.args(["-H", &format!("Authorization: Bearer {token}")]);
    }
    if let Some(script) = load.script {
        command.arg("-s").arg(script);
    }
    let output = command.arg(load.url).output().context("running wrk")?;
    let text = String::from_utf8_lossy(&output.stdout);
    anyhow::ensure!(
        output.status.success(),
        "wrk failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let cpu = cpu_time(load.server)? - cpu_before;
    let mut stats = parse(&text).with_context(|| format!("reading wrk's report:\n{text}"))?;
    // wrk counts every answer but 2xx and 3xx as one: the run that expects 404s
    // needs all of them to be such (that they are 404s, not other errors, the
    // warm-up checks before the run).
    let unsuccessful = match text
        .lines()
        .find_map(|line| line.trim().strip_prefix("Non-2xx or 3xx responses:"))
    {
        Some(count) => count
            .trim()
            .parse::<usize>()
            .with_context(|| format!("reading wrk's count of unsuccessful answers:\n{text}"))?,
        None => 0,
    };
    let expected = match load.expect {
        Expect::Success => 0,
        Expect::NotFound => stats.ops,
    };
    anyhow::ensure!(
        unsuccessful == expected,
        "wrk saw {unsuccessful} answers other than 2xx from {} ({expected} expected):\n{text}",
        load.url
    );
    stats.cpu_us_per_op = Some(cpu.as_secs_f64() * 1e6 / stats.ops as f64);
    Ok(stats)
}

/// Clock ticks per second of `/proc/<pid>/stat` (`USER_HZ`, 100 on every Linux
/// architecture this runs on): at 100 ticks a second, a run of a second or more at
/// tens of thousands of requests per second is read to about 1 %.
const TICKS_PER_SECOND: u64 = 100;

/// The user + system CPU time process `pid` has used so far.
fn cpu_time(pid: u32) -> anyhow::Result<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // After the command name, in parentheses (which may hold spaces): state is the
    // 3rd field, utime and stime the 14th and 15th.
    let after_name = stat.rsplit_once(')').context("a /proc stat line")?.1;
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let ticks = |index: usize| -> anyhow::Result<u64> {
        Ok(fields.get(index).context("a /proc stat field")?.parse()?)
    };
    let total = ticks(11)? + ticks(12)?;
    Ok(Duration::from_millis(total * 1000 / TICKS_PER_SECOND))
}

/// Requests, rate and the p50/p99 latencies from wrk's `--latency` report.
fn parse(report: &str) -> Option<Stats> {
    let mut stats = Stats {
        ops: 0,
        ops_per_sec: 0.0,
        p50_us: f64::NAN,
        p99_us: f64::NAN,
        cpu_us_per_op: None,
    };
    for line in report.lines().map(str::trim) {
        let fields: Vec<&str> = line.split_whitespace().collect();
        match fields.as_slice() {
            ["Requests/sec:", rate] => stats.ops_per_sec = rate.parse().ok()?,
            ["50%", latency] => stats.p50_us = micros(latency)?,
            ["99%", latency] => stats.p99_us = micros(latency)?,
            [requests, "requests", "in", ..] => stats.ops = requests.parse().ok()?,
            _ => {}
        }
    }
    (stats.ops > 0 && stats.ops_per_sec > 0.0).then_some(stats)
}

/// `812.00us`, `1.23ms`, `2.00s` in microseconds.
fn micros(value: &str) -> Option<f64> {
    let split = value.find(|c: char| c.is_ascii_alphabetic())?;
    let (number, unit) = value.split_at(split);
    let number: f64 = number.parse().ok()?;
    match unit {
        "us" => Some(number),
        "ms" => Some(number * 1e3),
        "s" => Some(number * 1e6),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wrk_report_is_read() {
        let report = "\
Running 2s test @ http://127.0.0.1:8080/livez
  1 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   365.12us  101.05us   3.94ms   89.12%
    Req/Sec    87.10k     2.51k   90.01k    75.00%
  Latency Distribution
     50%  340.00us
     75%  380.00us
     90%  450.00us
     99%    1.02ms
  173330 requests in 2.00s, 22.65MB read
Requests/sec:  86663.45
Transfer/sec:     11.32MB
";
        let stats = parse(report).unwrap();
        assert_eq!(stats.ops, 173_330);
        assert!((stats.ops_per_sec - 86_663.45).abs() < 0.01);
        assert!((stats.p50_us - 340.0).abs() < 1e-9);
        assert!((stats.p99_us - 1_020.0).abs() < 1e-9);
        assert!(parse("wrk: connection refused").is_none());
    }

    #[test]
    fn a_process_cpu_time_is_read_and_grows_with_its_work() {
        let before = cpu_time(std::process::id()).unwrap();
        let started = std::time::Instant::now();
        let mut spun = 0_u64;
        while started.elapsed() < Duration::from_millis(200) {
            spun = std::hint::black_box(spun.wrapping_add(1));
        }
        let after = cpu_time(std::process::id()).unwrap();
        assert!(after > before, "{before:?} then {after:?}");
    }
}
