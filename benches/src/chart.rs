//! The ladder's results as one SVG: four panels against the number of clients, each
//! with its target and the peer's figure at the same load.

use std::path::Path;

use plotters::prelude::*;

use crate::report::Report;

/// One measured series.
struct Series {
    label: &'static str,
    color: RGBColor,
    value: fn(&Report) -> f64,
}

/// One panel.
struct Panel {
    title: &'static str,
    unit: &'static str,
    series: Vec<Series>,
    /// The target ("at most" or "at least" this).
    target: f64,
    /// Colyseus 0.18's figure on the same machine and scenario: (clients, value).
    peer: (f64, f64),
}

/// Why the chart could not be drawn.
#[derive(Debug, thiserror::Error)]
#[error("cannot draw the chart: {0}")]
pub struct ChartError(String);

fn panels() -> Vec<Panel> {
    vec![
        Panel {
            title: "input-to-observed latency",
            unit: "ms",
            series: vec![
                Series {
                    label: "p50",
                    color: BLUE,
                    value: |r| r.latency_p50_ms,
                },
                Series {
                    label: "p99",
                    color: RED,
                    value: |r| r.latency_p99_ms,
                },
            ],
            target: 40.0,
            peer: (500.0, 51.5),
        },
        Panel {
            title: "server CPU",
            unit: "CPU s/s",
            series: vec![
                Series {
                    label: "arena-server",
                    color: RED,
                    value: |r| r.server_cpu_s_per_s.unwrap_or(f64::NAN),
                },
                Series {
                    label: "arena-bots",
                    color: BLUE,
                    value: |r| r.bots_cpu_s_per_s,
                },
            ],
            target: 0.2,
            peer: (500.0, 0.387),
        },
        Panel {
            title: "bytes received per client",
            unit: "kB/s",
            series: vec![Series {
                label: "per client",
                color: RED,
                value: |r| r.bytes_per_client_s / 1000.0,
            }],
            target: 150.0,
            peer: (500.0, 308.0),
        },
        Panel {
            title: "deltas received per client",
            unit: "per s",
            series: vec![
                Series {
                    label: "mean",
                    color: BLUE,
                    value: |r| r.deltas_per_client_s,
                },
                Series {
                    label: "slowest client",
                    color: RED,
                    value: |r| r.deltas_per_client_s_min,
                },
            ],
            target: 29.5,
            peer: (1000.0, 23.9),
        },
    ]
}

/// Draws `reports` into an SVG file at `path`.
pub fn draw(reports: &[Report], path: &Path) -> Result<(), ChartError> {
    let fail = |e: &dyn std::fmt::Display| ChartError(e.to_string());
    let root = SVGBackend::new(path, (1200, 900)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| fail(&e))?;
    let root = root
        .titled(
            "Arena load ladder (benchmark scenario, 2 cores, bots on the same machine)",
            ("sans-serif", 22),
        )
        .map_err(|e| fail(&e))?;
    let max_clients = reports.iter().map(|r| r.clients).max().unwrap_or(1000) as f64 * 1.05;
    for (area, panel) in root.split_evenly((2, 2)).iter().zip(panels()) {
        let mut top = panel.target.max(panel.peer.1);
        for series in &panel.series {
            for r in reports {
                let v = (series.value)(r);
                if v.is_finite() {
                    top = top.max(v);
                }
            }
        }
        let mut chart = ChartBuilder::on(area)
            .caption(panel.title, ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(56)
            .build_cartesian_2d(0.0..max_clients, 0.0..top * 1.15)
            .map_err(|e| fail(&e))?;
        chart
            .configure_mesh()
            .x_desc("clients")
            .y_desc(panel.unit)
            .draw()
            .map_err(|e| fail(&e))?;
        for series in &panel.series {
            let points: Vec<(f64, f64)> = reports
                .iter()
                .map(|r| (r.clients as f64, (series.value)(r)))
                .filter(|(_, v)| v.is_finite())
                .collect();
            let color = series.color;
            chart
                .draw_series(LineSeries::new(points.clone(), color.stroke_width(2)))
                .map_err(|e| fail(&e))?
                .label(series.label)
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2))
                });
            chart
                .draw_series(points.iter().map(|&p| Circle::new(p, 4, color.filled())))
                .map_err(|e| fail(&e))?;
        }
        chart
            .draw_series(LineSeries::new(
                vec![(0.0, panel.target), (max_clients, panel.target)],
                BLACK.mix(0.4).stroke_width(1),
            ))
            .map_err(|e| fail(&e))?
            .label("target")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], BLACK.mix(0.4)));
        let peer = panel.peer;
        chart
            .draw_series(std::iter::once(TriangleMarker::new(
                peer,
                8,
                MAGENTA.filled(),
            )))
            .map_err(|e| fail(&e))?
            .label("Colyseus 0.18")
            .legend(|(x, y)| TriangleMarker::new((x + 9, y), 6, MAGENTA.filled()));
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK.mix(0.3))
            .position(SeriesLabelPosition::UpperLeft)
            .draw()
            .map_err(|e| fail(&e))?;
    }
    root.present().map_err(|e| fail(&e))?;
    Ok(())
}
