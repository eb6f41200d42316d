//! A uniform grid that finds the pairs of bodies close enough to possibly touch.
//!
//! Cells are at least as wide as the largest possible contact distance, so two bodies
//! that touch are always in the same or neighbouring cells, and each body is checked
//! against a handful of neighbours instead of every other body. Bodies are bucketed by
//! a counting sort into flat vectors that are reused from tick to tick.

use glam::Vec2;

/// The grid. Keep one and call [`UniformGrid::candidate_pairs`] every tick.
#[derive(Debug, Default)]
pub struct UniformGrid {
    cols: usize,
    rows: usize,
    cell_size: f32,
    /// `cell_of[i]`: the cell body `i` is in.
    cell_of: Vec<u32>,
    /// `starts[c]..starts[c + 1]`: where cell `c`'s bodies are in `slots`.
    starts: Vec<u32>,
    /// Body indices, grouped by cell.
    slots: Vec<u32>,
}

/// Most cells the grid uses per body; bounds memory for a huge, sparse arena.
const MAX_CELLS_PER_BODY: usize = 4;

impl UniformGrid {
    /// Writes into `pairs` (cleared first) every pair `(i, j)`, `i < j` in no particular
    /// order, of bodies whose centres may be within `reach` of each other, where
    /// `positions` lie inside `(0, 0)..arena`. Pairs further apart may be included.
    pub fn candidate_pairs(
        &mut self,
        positions: &[Vec2],
        arena: Vec2,
        reach: f32,
        pairs: &mut Vec<(u32, u32)>,
    ) {
        pairs.clear();
        self.bucket(positions, arena, reach);
        let cols = self.cols;
        for (slot, &i) in self.slots.iter().enumerate() {
            let cell = self.cell_of[i as usize] as usize;
            let end = self.starts[cell + 1] as usize;
            // Later bodies of the same cell, then the cells east, south-west, south and
            // south-east: each neighbouring pair of cells is visited from one side only.
            for &j in &self.slots[slot + 1..end] {
                pairs.push(ordered(i, j));
            }
            let (cx, cy) = (cell % cols, cell / cols);
            let neighbours = [(1isize, 0isize), (-1, 1), (0, 1), (1, 1)];
            for (dx, dy) in neighbours {
                let (nx, ny) = (cx as isize + dx, cy as isize + dy);
                if nx < 0 || nx >= cols as isize || ny >= self.rows as isize {
                    continue;
                }
                let other = ny as usize * cols + nx as usize;
                let (start, stop) = (self.starts[other] as usize, self.starts[other + 1] as usize);
                for &j in &self.slots[start..stop] {
                    pairs.push(ordered(i, j));
                }
            }
        }
    }

    fn bucket(&mut self, positions: &[Vec2], arena: Vec2, reach: f32) {
        let max_cells = (positions.len() * MAX_CELLS_PER_BODY).max(1024) as f32;
        let cell_size = reach.max((arena.x * arena.y / max_cells).sqrt()).max(1e-3);
        self.cell_size = cell_size;
        self.cols = ((arena.x / cell_size).ceil() as usize).max(1);
        self.rows = ((arena.y / cell_size).ceil() as usize).max(1);
        let cells = self.cols * self.rows;

        self.starts.clear();
        self.starts.resize(cells + 1, 0);
        self.cell_of.clear();
        for p in positions {
            let cx = ((p.x / cell_size) as usize).min(self.cols - 1);
            let cy = ((p.y / cell_size) as usize).min(self.rows - 1);
            let cell = cy * self.cols + cx;
            self.cell_of.push(cell as u32);
            self.starts[cell + 1] += 1;
        }
        for c in 0..cells {
            self.starts[c + 1] += self.starts[c];
        }
        self.slots.clear();
        self.slots.resize(positions.len(), 0);
        // Fill each cell from its start; `starts` is shifted back afterwards.
        for (i, &cell) in self.cell_of.iter().enumerate() {
            let next = &mut self.starts[cell as usize];
            self.slots[*next as usize] = i as u32;
            *next += 1;
        }
        for c in (1..=cells).rev() {
            self.starts[c] = self.starts[c - 1];
        }
        self.starts[0] = 0;
    }
}

fn ordered(i: u32, j: u32) -> (u32, u32) {
    if i < j { (i, j) } else { (j, i) }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The grid must find every pair that brute force finds (it may find more).
    #[test]
    fn finds_every_pair_within_reach() {
        let mut rng = fastrand::Rng::with_seed(7);
        let arena = Vec2::new(1000.0, 600.0);
        let positions: Vec<Vec2> = (0..800)
            .map(|_| Vec2::new(rng.f32() * arena.x, rng.f32() * arena.y))
            .collect();
        let reach = 30.0;
        let mut grid = UniformGrid::default();
        let mut pairs = Vec::new();
        grid.candidate_pairs(&positions, arena, reach, &mut pairs);
        let mut found: Vec<(u32, u32)> = pairs.clone();
        found.sort_unstable();
        let before = found.len();
        found.dedup();
        assert_eq!(before, found.len(), "no pair is reported twice");

        let mut expected = 0;
        for i in 0..positions.len() {
            for j in i + 1..positions.len() {
                if positions[i].distance(positions[j]) <= reach {
                    expected += 1;
                    assert!(
                        found.binary_search(&(i as u32, j as u32)).is_ok(),
                        "bodies {i} and {j} are within reach but were not paired"
                    );
                }
            }
        }
        assert!(
            expected > 50,
            "the test must exercise real contacts ({expected})"
        );
        assert!(
            found.len() < positions.len() * 20,
            "the grid must prune: {} candidates for {} bodies",
            found.len(),
            positions.len()
        );
    }

    #[test]
    fn bodies_on_the_far_edges_are_bucketed() {
        let mut grid = UniformGrid::default();
        let mut pairs = Vec::new();
        let arena = Vec2::new(100.0, 100.0);
        let positions = [Vec2::new(100.0, 100.0), Vec2::new(99.0, 99.0), Vec2::ZERO];
        grid.candidate_pairs(&positions, arena, 10.0, &mut pairs);
        assert_eq!(pairs, vec![(0, 1)]);
    }
}
