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

/// The food index on its own and an import into MongoDB.
#[derive(Debug, Serialize)]
pub struct FoodFigures {
    pub indexed: usize,
    pub build_seconds: f64,
    pub index_on_disk_mib: f64,
    /// The resident memory of a process holding only the index.
    pub index_process_rss_mib: f64,
    pub imported: usize,
    pub import_foods_per_second: f64,
    pub import_rss_growth_mib: f64,
}

#[derive(Debug, Default, Serialize)]
pub struct Report {
    pub machine: String,
    pub rows: Vec<Row>,
    pub growth: Vec<GrowthRow>,
    pub stampede_readers: usize,
    pub stampede_store_reads: u64,
    pub http_peak_rss_mib: f64,
    /// What loaded the HTTP rows.
    pub http_load_generator: String,
    /// The in-process tier's configured size, which the RSS budget allows beside.
    pub l1_cache_mib: f64,
    /// The longest a second instance took to serve a write made through the first.
    pub across_instances_max_ms: f64,
    /// The food database at scale, when measured.
    pub foods: Option<FoodFigures>,
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
            "{:<12} {:<22} {:<42} {:>7} {:>12} {:>10} {:>10} {:>10} {:>8}",
            "group",
            "tier",
            "operation",
            "clients",
            "ops/s",
            "p50 µs",
            "p99 µs",
            "CPU µs/op",
            "x floor"
        );
        let floor = self
            .row("http", "service", crate::http::FLOOR, 32)
            .and_then(|s| s.cpu_us_per_op);
        for row in &self.rows {
            let cpu = row.stats.cpu_us_per_op;
            let times_floor = cpu.zip(floor).map(|(cpu, floor)| cpu / floor);
            println!(
                "{:<12} {:<22} {:<42} {:>7} {:>12.0} {:>10.1} {:>10.1} {:>10} {:>8}",
                row.group,
                row.tier,
                row.operation,
                row.clients,
                row.stats.ops_per_sec,
                row.stats.p50_us,
                row.stats.p99_us,
                cpu.map_or_else(String::new, |cpu| format!("{cpu:.1}")),
                times_floor.map_or_else(String::new, |times| format!("{times:.2}"))
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
            "Service peak RSS under HTTP load: {:.1} MiB (L1_CACHE_MB {:.0}); HTTP load from {}",
            self.http_peak_rss_mib, self.l1_cache_mib, self.http_load_generator
        );
        if let Some(foods) = &self.foods {
            println!(
                "Food index of {} foods: built in {:.1} s, {:.0} MiB on disk, {:.0} MiB resident; \
                 import of {} foods into MongoDB: {:.0} foods/s, memory +{:.1} MiB",
                foods.indexed,
                foods.build_seconds,
                foods.index_on_disk_mib,
                foods.index_process_rss_mib,
                foods.imported,
                foods.import_foods_per_second,
                foods.import_rss_growth_mib
            );
        }
        println!();
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

    /// Every single-client row as a bar from 0 to its p50 with a whisker on to its
    /// p99, coloured by tier and labelled with both; the raw references (Redis `GET`,
    /// MongoDB `find_one`) are hatched bars and also vertical lines across the chart,
    /// so each tier reads against them at a glance. Log scale.
    pub fn write_chart(&self, path: &Path) -> anyhow::Result<()> {
        use plotters::prelude::*;
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let rows: Vec<&Row> = self.rows.iter().filter(|r| r.clients == 1).collect();
        let mut tiers: Vec<&str> = Vec::new();
        for row in &rows {
            if !tiers.contains(&row.tier.as_str()) {
                tiers.push(&row.tier);
            }
        }
        let colour = |tier: &str| {
            let index = tiers.iter().position(|t| *t == tier).unwrap_or(0);
            Palette99::pick(index).to_rgba()
        };
        let is_reference = |row: &Row| row.group == "reference" || row.tier.starts_with("raw ");
        let height = 90 + 26 * u32::try_from(rows.len()).unwrap_or(40);
        let root = SVGBackend::new(path, (1300, height)).into_drawing_area();
        root.fill(&WHITE)?;
        let max = rows
            .iter()
            .map(|r| r.stats.p99_us.max(r.stats.p50_us))
            .fold(1.0_f64, f64::max)
            * 20.0;
        let mut chart = ChartBuilder::on(&root)
            .caption(
                "latency per tier, one client: bar = p50, whisker = p99 (µs, log scale)",
                ("sans-serif", 18),
            )
            .margin(10)
            .x_label_area_size(30)
            .y_label_area_size(430)
            .build_cartesian_2d(
                (0.05_f64..max).log_scale(),
                (0..rows.len()).into_segmented(),
            )?;
        let labels: Vec<String> = rows
            .iter()
            .map(|r| format!("{} · {} · {}", r.group, r.tier, r.operation))
            .collect();
        chart
            .configure_mesh()
            .y_labels(rows.len())
            .y_label_formatter(&|segment| match segment {
                SegmentValue::CenterOf(i) | SegmentValue::Exact(i) => {
                    labels.get(*i).cloned().unwrap_or_default()
                }
                SegmentValue::Last => String::new(),
            })
            .x_desc("µs")
            .draw()?;
        let (top, bottom) = (SegmentValue::Exact, SegmentValue::Exact);
        // One legend entry per tier, in order of appearance.
        for tier in &tiers {
            let fill = colour(tier);
            chart
                .draw_series(std::iter::empty::<Rectangle<(f64, SegmentValue<usize>)>>())?
                .label(*tier)
                .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 12, y + 5)], fill.filled()));
        }
        // The raw references as lines across every row: where the hardware is.
        for (reference, label) in [
            ("raw Redis GET", "raw Redis GET p50 (line)"),
            ("raw MongoDB find_one", "raw find_one p50 (line)"),
        ] {
            if let Some(row) = rows
                .iter()
                .find(|r| r.tier == reference && r.group == "side by side")
                .or_else(|| rows.iter().find(|r| r.tier == reference))
            {
                let x = row.stats.p50_us.max(0.05);
                let style = colour(reference).stroke_width(2);
                chart
                    .draw_series(LineSeries::new(
                        [(x, bottom(0)), (x, SegmentValue::Last)],
                        style,
                    ))?
                    .label(label)
                    .legend(move |(lx, ly)| PathElement::new([(lx, ly), (lx + 16, ly)], style));
            }
        }
        for (i, row) in rows.iter().enumerate() {
            let (p50, p99) = (row.stats.p50_us.max(0.05), row.stats.p99_us.max(0.05));
            let fill = colour(&row.tier);
            let band = [(0.05, top(i)), (p50, bottom(i + 1))];
            if is_reference(row) {
                // References: a light fill inside a strong outline.
                chart.draw_series([Rectangle::new(band.clone(), fill.mix(0.25).filled())])?;
                chart.draw_series([Rectangle::new(band, fill.stroke_width(2))])?;
            } else {
                chart.draw_series([Rectangle::new(band, fill.mix(0.85).filled())])?;
            }
            chart.draw_series(LineSeries::new(
                [
                    (p50, SegmentValue::CenterOf(i)),
                    (p99.max(p50), SegmentValue::CenterOf(i)),
                ],
                BLACK.mix(0.7).stroke_width(2),
            ))?;
            chart.draw_series([Text::new(
                format!("{} / {}", short(p50), short(p99)),
                (p99.max(p50) * 1.15, SegmentValue::CenterOf(i)),
                ("sans-serif", 12).into_font().into_text_style(&root).pos(
                    plotters::style::text_anchor::Pos::new(
                        plotters::style::text_anchor::HPos::Left,
                        plotters::style::text_anchor::VPos::Center,
                    ),
                ),
            )])?;
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.9))
            .border_style(BLACK.mix(0.3))
            .position(SeriesLabelPosition::LowerRight)
            .draw()?;
        root.present()?;
        Ok(())
    }
}

/// A latency in µs as a short label: `0.3 µs`, `112 µs`, `2.4 ms`.
fn short(us: f64) -> String {
    if us >= 1_000.0 {
        format!("{:.1} ms", us / 1_000.0)
    } else if us >= 10.0 {
        format!("{us:.0} µs")
    } else {
        format!("{us:.1} µs")
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

#[cfg(test)]
mod tests {
    use super::*;

    fn row(group: &'static str, tier: &str, p50_us: f64, p99_us: f64) -> Row {
        Row {
            group,
            tier: tier.to_owned(),
            operation: "get user by id",
            clients: 1,
            stats: Stats {
                ops: 100,
                ops_per_sec: 1e6 / p50_us,
                p50_us,
                p99_us,
                cpu_us_per_op: None,
            },
        }
    }

    /// The chart names every tier, marks the references, and labels each bar with
    /// its p50 and p99.
    #[test]
    fn the_chart_shows_tiers_references_and_both_percentiles() {
        let report = Report {
            rows: vec![
                row("store", "memory", 0.3, 0.5),
                row("store", "cached (hit)", 60.0, 130.0),
                row("side by side", "raw Redis GET", 77.4, 160.8),
                row("side by side", "raw MongoDB find_one", 358.4, 552.4),
            ],
            ..Report::default()
        };
        let path = std::env::temp_dir().join(format!("chart-{}.svg", std::process::id()));

        report.write_chart(&path).unwrap();

        let svg = std::fs::read_to_string(&path).unwrap();
        let _ = std::fs::remove_file(&path);
        for text in [
            "memory",
            "cached (hit)",
            "raw Redis GET p50 (line)",
            "raw find_one p50 (line)",
            "60 µs / 130 µs",
            "0.3 µs / 0.5 µs",
            "358 µs / 552 µs",
        ] {
            assert!(svg.contains(text), "{text} missing from the chart");
        }
    }
}
