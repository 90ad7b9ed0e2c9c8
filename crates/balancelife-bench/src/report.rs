//! The benchmark's results: a table on stdout, a JSON file, an SVG chart, and a
//! PASS/MISS line per target.

use std::path::Path;

use serde::Serialize;

use crate::measure::Stats;

#[derive(Debug, Serialize)]
pub struct Row {
    /// `store`, `reference` or `http`.
    pub group: &'static str,
    /// What was measured, e.g. `cached (hit)` or `raw Redis GET`.
    pub tier: String,
    pub operation: &'static str,
    pub clients: usize,
    #[serde(flatten)]
    pub stats: Stats,
}

#[derive(Debug, Serialize)]
pub struct GrowthRow {
    pub store: &'static str,
    pub entries: usize,
    pub p50_us: f64,
}

#[derive(Debug, Serialize)]
pub struct Target {
    pub name: &'static str,
    pub measured: String,
    pub pass: bool,
}

#[derive(Debug, Default, Serialize)]
pub struct Report {
    pub machine: String,
    pub rows: Vec<Row>,
    pub growth: Vec<GrowthRow>,
    pub stampede_readers: usize,
    pub stampede_store_reads: u64,
    pub http_peak_rss_mib: f64,
    pub targets: Vec<Target>,
}

impl Report {
    pub fn row(&self, group: &str, tier: &str, operation: &str, clients: usize) -> Option<&Stats> {
        self.rows
            .iter()
            .find(|r| {
                r.group == group
                    && r.tier == tier
                    && r.operation == operation
                    && r.clients == clients
            })
            .map(|r| &r.stats)
    }

    pub fn print(&self) {
        println!("\nMachine: {}\n", self.machine);
        println!(
            "{:<12} {:<22} {:<42} {:>7} {:>12} {:>10} {:>10}",
            "group", "tier", "operation", "clients", "ops/s", "p50 µs", "p99 µs"
        );
        for row in &self.rows {
            println!(
                "{:<12} {:<22} {:<42} {:>7} {:>12.0} {:>10.1} {:>10.1}",
                row.group,
                row.tier,
                row.operation,
                row.clients,
                row.stats.ops_per_sec,
                row.stats.p50_us,
                row.stats.p99_us
            );
        }
        println!("\nOne-day query as the history grows (p50, one client):");
        for row in &self.growth {
            println!(
                "  {:<10} {:>8} entries  {:>10.1} µs",
                row.store, row.entries, row.p50_us
            );
        }
        println!(
            "\nStampede: {} concurrent cold readers of one key -> {} store read(s)",
            self.stampede_readers, self.stampede_store_reads
        );
        println!(
            "Service peak RSS under HTTP load: {:.1} MiB\n",
            self.http_peak_rss_mib
        );
        for target in &self.targets {
            println!(
                "{} {}: {}",
                if target.pass { "PASS" } else { "MISS" },
                target.name,
                target.measured
            );
        }
    }

    pub fn write_json(&self, path: &Path) -> anyhow::Result<()> {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(path, serde_json::to_vec_pretty(self)?)?;
        Ok(())
    }

    /// p50 per tier for single-client `get user by id` and friends, log scale.
    pub fn write_chart(&self, path: &Path) -> anyhow::Result<()> {
        use plotters::prelude::*;
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let bars: Vec<(String, f64)> = self
            .rows
            .iter()
            .filter(|r| r.clients == 1)
            .map(|r| {
                (
                    format!("{} · {} · {}", r.group, r.tier, r.operation),
                    r.stats.p50_us.max(0.01),
                )
            })
            .collect();
        let height = 60 + 22 * u32::try_from(bars.len()).unwrap_or(40);
        let root = SVGBackend::new(path, (1100, height)).into_drawing_area();
        root.fill(&WHITE)?;
        let max = bars.iter().map(|(_, v)| *v).fold(1.0_f64, f64::max) * 2.0;
        let mut chart = ChartBuilder::on(&root)
            .caption(
                "p50 latency per tier, one client (µs, log scale)",
                ("sans-serif", 18),
            )
            .margin(10)
            .x_label_area_size(30)
            .y_label_area_size(420)
            .build_cartesian_2d((0.01_f64..max).log_scale(), 0..bars.len())?;
        let labels: Vec<String> = bars.iter().map(|(label, _)| label.clone()).collect();
        chart
            .configure_mesh()
            .y_labels(bars.len())
            .y_label_formatter(&|i| labels.get(*i).cloned().unwrap_or_default())
            .x_desc("µs")
            .draw()?;
        chart.draw_series(bars.iter().enumerate().map(|(i, (_, value))| {
            Rectangle::new([(0.01, i), (*value, i + 1)], BLUE.mix(0.6).filled())
        }))?;
        root.present()?;
        Ok(())
    }
}

/// A short description of this machine, from /proc.
pub fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|s| s.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    let memory_gib = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("MemTotal"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kib| kib.parse::<f64>().ok())
        })
        .map_or(0.0, |kib| kib / 1024.0 / 1024.0);
    format!("{cpu}, {cores} cores, {memory_gib:.0} GiB")
}
