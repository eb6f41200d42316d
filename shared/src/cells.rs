//! The square cells a world with interest management is cut into, and which of them a
//! client sees: the server and clients compute them alike, in integers, from the
//! `Welcome`'s [`ViewInfo`] and [`ArenaInfo`] and the point a view is around.

use crate::protocol::{ArenaInfo, Around, ViewInfo};

/// A world's cells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CellGrid {
    cell_size: i32,
    cols: u32,
    rows: u32,
    /// How far a view reaches from its point, in position quanta.
    radius: i32,
}

impl CellGrid {
    /// The cells of `arena` as `view` cuts it; `None` without interest management (a
    /// cell size or view radius of 0).
    pub fn new(view: &ViewInfo, arena: &ArenaInfo) -> Option<CellGrid> {
        if view.cell_size <= 0 || view.view_radius <= 0 {
            return None;
        }
        let cells = |side: i32| (side.max(1) as u32).div_ceil(view.cell_size as u32);
        Some(CellGrid {
            cell_size: view.cell_size,
            cols: cells(arena.width),
            rows: cells(arena.height),
            radius: view.view_radius,
        })
    }

    /// How many cells there are.
    pub fn len(&self) -> usize {
        self.cols as usize * self.rows as usize
    }

    /// Whether there are none (never: an arena has at least one cell).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Columns of cells.
    pub fn cols(&self) -> u32 {
        self.cols
    }

    /// Rows of cells.
    pub fn rows(&self) -> u32 {
        self.rows
    }

    /// The cell holding the point `(x, y)` (position quanta); a point outside the arena
    /// belongs to the nearest cell.
    #[inline]
    pub fn cell_at(&self, x: i32, y: i32) -> u32 {
        let axis = |v: i32, count: u32| ((v.max(0) / self.cell_size) as u32).min(count - 1);
        axis(y, self.rows) * self.cols + axis(x, self.cols)
    }

    /// The middle of the arena's cells, in position quanta: where a spectator looks
    /// until it says otherwise.
    pub fn middle(&self) -> (i32, i32) {
        let half = |count: u32| (count as i32).saturating_mul(self.cell_size) / 2;
        (half(self.cols), half(self.rows))
    }

    /// The top-left corner of `cell`, in position quanta: what the positions in its
    /// news are relative to.
    pub fn origin(&self, cell: u32) -> (i32, i32) {
        let (col, row) = (cell % self.cols, cell / self.cols);
        (col as i32 * self.cell_size, row as i32 * self.cell_size)
    }

    /// Writes into `out` (cleared first), in ascending order, the cells within the view
    /// radius of `(x, y)`: those whose nearest point is at most that far, so every point
    /// within the radius is in one of them. About π r² + 4 r s + s² cells' worth of area
    /// for a radius r and a cell side s: 21.6 cells for r = 2s, where a square block
    /// holding the same disc whatever the point's place in its cell would be 25.
    pub fn within_reach(&self, x: i32, y: i32, out: &mut Vec<u32>) {
        out.clear();
        // Every server viewer's view is worked out again each send it moved: the
        // divisions stay in 32 bits and only the squares in 64.
        let (size, r) = (self.cell_size, self.radius);
        // How far `v` is from the span of cell `i` along one axis (0 inside it).
        let gap = |v: i32, i: i32| {
            let start = i64::from(i) * i64::from(size);
            (start - i64::from(v))
                .max(i64::from(v) - start - i64::from(size))
                .max(0)
        };
        // Candidates: from the cell before the one holding `v - r` (a cell ending exactly
        // there is in reach) to the one holding `v + r`.
        let span = |v: i32, count: u32| {
            let last = count as i32 - 1;
            let first = v.saturating_sub(r).div_euclid(size) - 1;
            (
                first.clamp(0, last),
                v.saturating_add(r).div_euclid(size).clamp(0, last),
            )
        };
        let (rows, last_col) = (span(y, self.rows), self.cols as i32 - 1);
        let r2 = i64::from(r) * i64::from(r);
        for row in rows.0..=rows.1 {
            let room = r2 - gap(y, row).pow(2);
            if room < 0 {
                continue;
            }
            // The columns at most `reach` away along x: a cell left of `x` is in when its
            // right edge is at least `x - reach`, one right of it when its left edge is
            // at most `x + reach` (the same cells as `dx² + dy² <= r²`, one by one).
            let reach = floor_sqrt(room) as i32;
            let first = -(reach.saturating_sub(x)).div_euclid(size) - 1;
            let last = x.saturating_add(reach).div_euclid(size);
            if last < 0 || first > last_col {
                continue;
            }
            let first_cell = row as u32 * self.cols;
            let (first, last) = (first.max(0) as u32, last.min(last_col) as u32);
            out.extend(first_cell + first..=first_cell + last);
        }
    }

    /// Writes into `out` (cleared first), in ascending order, the cells of a view
    /// `around` a point ([`CellGrid::within_reach`]) or of every cell.
    pub fn seen(&self, around: Around, out: &mut Vec<u32>) {
        match around {
            Around::Point { x, y } => self.within_reach(x, y, out),
            Around::Everything => self.all(out),
        }
    }

    /// Writes every cell into `out` (cleared first), in ascending order.
    pub fn all(&self, out: &mut Vec<u32>) {
        out.clear();
        out.extend(0..self.len() as u32);
    }
}

/// The integer square root of `n` (0 ≤ `n` < 2⁶²): from the float's, which is within
/// one of it, then made exact.
fn floor_sqrt(n: i64) -> i64 {
    let mut root = (n as f64).sqrt() as i64;
    while root * root > n {
        root -= 1;
    }
    while (root + 1) * (root + 1) <= n {
        root += 1;
    }
    root
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_square_root_is_the_integer_one_around_every_square() {
        let big = (1i64 << 31) - 1;
        for k in (0..100_000).chain(big - 1_000..=big) {
            let square = k * k;
            assert_eq!(floor_sqrt(square), k);
            assert_eq!(floor_sqrt(square + 2 * k), k, "just below the next square");
            if k > 0 {
                assert_eq!(floor_sqrt(square - 1), k - 1, "just below {k}²");
            }
        }
    }

    fn grid() -> CellGrid {
        let arena = ArenaInfo {
            width: 1000,
            height: 450,
            round_ticks: 1,
            intermission_ticks: 1,
            player_speed: 1,
        };
        let view = ViewInfo {
            cell_size: 100,
            view_radius: 150,
            see_all: false,
        };
        CellGrid::new(&view, &arena).expect("interest is on")
    }

    #[test]
    fn points_fall_in_their_cell_and_the_edges_in_the_nearest() {
        let grid = grid();
        assert_eq!((grid.cols(), grid.rows(), grid.len()), (10, 5, 50));
        assert_eq!(grid.cell_at(0, 0), 0);
        assert_eq!(grid.cell_at(99, 99), 0);
        assert_eq!(grid.cell_at(100, 0), 1);
        assert_eq!(grid.origin(13), (300, 100));
        assert_eq!(grid.cell_at(250, 120), 12);
        assert_eq!(grid.cell_at(-5, 9_999), 40, "clamped into the arena");
        assert_eq!(grid.middle(), (500, 250));
    }

    #[test]
    fn a_view_holds_the_cells_within_its_radius_of_the_point() {
        let grid = grid(); // cells of 100, radius 150
        let mut seen = Vec::new();
        // The middle of cell 24 (450, 250): the cells at most 150 away, not the corners
        // of the 5 × 5 block (their nearest corner is 212 away).
        grid.within_reach(450, 250, &mut seen);
        assert_eq!(
            seen,
            vec![4, 13, 14, 15, 22, 23, 24, 25, 26, 33, 34, 35, 44],
            "cells reached"
        );
        // Exactly on the radius is in: from (400, 250), cell 22's right edge (300) is 100
        // away along x only, cell 21's (200) 200 away; the corner of cell 12 (300, 200)
        // is at (100, 50) from it, 111.8 away.
        grid.within_reach(400, 250, &mut seen);
        assert!(seen.contains(&22) && seen.contains(&12) && !seen.contains(&21));
        grid.within_reach(550, 250, &mut seen);
        assert!(
            seen.contains(&27),
            "cell 27 starts at x = 700, exactly 150 away"
        );
        // Clipped by the arena.
        grid.within_reach(0, 0, &mut seen);
        assert_eq!(seen, vec![0, 1, 10, 11], "the corner");
        assert!(seen.windows(2).all(|w| w[0] < w[1]), "ascending");
        // Every point within the radius is in a cell in view, wherever the point is.
        for (x, y) in [(0, 0), (37, 420), (999, 449), (512, 3), (260, 260)] {
            grid.within_reach(x, y, &mut seen);
            for dx in (-150..=150).step_by(10) {
                for dy in (-150..=150).step_by(10) {
                    let (px, py) = (x + dx, y + dy);
                    let inside = (0..1000).contains(&px) && (0..450).contains(&py);
                    if inside && dx * dx + dy * dy <= 150 * 150 {
                        assert!(
                            seen.contains(&grid.cell_at(px, py)),
                            "({px}, {py}) from ({x}, {y})"
                        );
                    }
                }
            }
        }
        let mut around = Vec::new();
        grid.seen(Around::Point { x: 450, y: 250 }, &mut around);
        grid.within_reach(450, 250, &mut seen);
        assert_eq!(around, seen, "a view around a point");
        grid.seen(Around::Everything, &mut around);
        assert_eq!(
            around,
            (0..50).collect::<Vec<u32>>(),
            "a view of every cell"
        );
    }

    #[test]
    fn the_cells_in_reach_are_those_the_rule_names_one_by_one() {
        // The rule as PROTOCOL.md states it, cell by cell, against the row-by-row spans.
        let mut rng = 0x2545_f491_4f6c_dd1du64;
        let mut next = |below: u32| {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            (rng % u64::from(below)) as i32
        };
        for _ in 0..200 {
            let arena = ArenaInfo {
                width: 1 + next(3000),
                height: 1 + next(3000),
                round_ticks: 1,
                intermission_ticks: 1,
                player_speed: 1,
            };
            let view = ViewInfo {
                cell_size: 1 + next(400),
                view_radius: 1 + next(900),
                see_all: false,
            };
            let grid = CellGrid::new(&view, &arena).expect("interest is on");
            let (size, r) = (i64::from(view.cell_size), i64::from(view.view_radius));
            for _ in 0..20 {
                let (x, y) = (next(3200) - 100, next(3200) - 100);
                let gap = |v: i64, i: i64| (i * size - v).max(v - (i + 1) * size).max(0);
                let named: Vec<u32> = (0..grid.len() as u32)
                    .filter(|&c| {
                        let (col, row) = (i64::from(c % grid.cols()), i64::from(c / grid.cols()));
                        let (dx, dy) = (gap(i64::from(x), col), gap(i64::from(y), row));
                        dx * dx + dy * dy <= r * r
                    })
                    .collect();
                let mut spans = Vec::new();
                grid.within_reach(x, y, &mut spans);
                assert_eq!(spans, named, "{view:?} {arena:?} from ({x}, {y})");
            }
        }
    }

    #[test]
    fn no_cell_size_or_radius_means_no_interest_management() {
        let arena = ArenaInfo {
            width: 10,
            height: 10,
            round_ticks: 1,
            intermission_ticks: 1,
            player_speed: 1,
        };
        for (cell_size, view_radius) in [(0, 100), (100, 0)] {
            let view = ViewInfo {
                cell_size,
                view_radius,
                see_all: true,
            };
            assert_eq!(CellGrid::new(&view, &arena), None);
        }
    }
}
