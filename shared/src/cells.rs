//! The square cells a world with interest management is cut into, and which of them a
//! client sees: the server and clients compute them alike from the `Welcome`'s
//! [`ViewInfo`] and [`ArenaInfo`].

use crate::protocol::{ArenaInfo, ViewInfo};

/// The centre of a view of every cell (a spectator that asked to see everything).
pub const EVERY_CELL: u32 = u32::MAX;

/// A world's cells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CellGrid {
    cell_size: i32,
    cols: u32,
    rows: u32,
    /// Cells seen on each side of one's own.
    reach: u32,
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
            reach: (view.view_radius as u32).div_ceil(view.cell_size as u32),
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
    pub fn cell_at(&self, x: i32, y: i32) -> u32 {
        let axis = |v: i32, count: u32| ((v.max(0) / self.cell_size) as u32).min(count - 1);
        axis(y, self.rows) * self.cols + axis(x, self.cols)
    }

    /// The cell in the middle of the arena.
    pub fn middle(&self) -> u32 {
        (self.rows / 2) * self.cols + self.cols / 2
    }

    /// The top-left corner of `cell`, in position quanta: what the positions in its
    /// news are relative to.
    pub fn origin(&self, cell: u32) -> (i32, i32) {
        let (col, row) = (cell % self.cols, cell / self.cols);
        (col as i32 * self.cell_size, row as i32 * self.cell_size)
    }

    /// The centre of `cell`, in position quanta.
    pub fn centre(&self, cell: u32) -> (i32, i32) {
        let (x, y) = self.origin(cell);
        let half = self.cell_size / 2;
        (x + half, y + half)
    }

    /// Writes into `out` (cleared first), in ascending order, the cells seen from
    /// `cell`: the block of cells within `reach` columns and rows of it.
    pub fn around(&self, cell: u32, out: &mut Vec<u32>) {
        out.clear();
        let (col, row) = (cell % self.cols, cell / self.cols);
        let rows = row.saturating_sub(self.reach)..=(row + self.reach).min(self.rows - 1);
        let cols = col.saturating_sub(self.reach)..=(col + self.reach).min(self.cols - 1);
        for r in rows {
            out.extend(cols.clone().map(|c| r * self.cols + c));
        }
    }

    /// Writes into `out` (cleared first), in ascending order, the cells of a view
    /// centred on `centre`: [`CellGrid::around`] it, or every cell for [`EVERY_CELL`].
    pub fn seen_from(&self, centre: u32, out: &mut Vec<u32>) {
        if centre == EVERY_CELL {
            self.all(out);
        } else {
            self.around(centre, out);
        }
    }

    /// Writes every cell into `out` (cleared first), in ascending order.
    pub fn all(&self, out: &mut Vec<u32>) {
        out.clear();
        out.extend(0..self.len() as u32);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert_eq!(grid.centre(12), (250, 150));
    }

    #[test]
    fn a_cell_sees_the_block_around_it_clipped_by_the_arena() {
        let grid = grid();
        let mut seen = Vec::new();
        grid.around(0, &mut seen);
        assert_eq!(
            seen,
            vec![0, 1, 2, 10, 11, 12, 20, 21, 22],
            "reach 2, clipped"
        );
        grid.around(24, &mut seen);
        assert_eq!(seen.len(), 25, "a 5 × 5 block in the middle");
        assert!(seen.windows(2).all(|w| w[0] < w[1]), "ascending");
        let mut from = Vec::new();
        grid.seen_from(24, &mut from);
        assert_eq!(from, seen, "a view centred on a cell");
        grid.seen_from(EVERY_CELL, &mut from);
        assert_eq!(from, (0..50).collect::<Vec<u32>>(), "a view of every cell");
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
