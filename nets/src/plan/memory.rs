//! Arena layout by liveness: every buffer lives from the first step that writes it to the last
//! step that reads it, and buffers whose lifetimes overlap get disjoint ranges of one arena.
//! Greedy first-fit over buffers sorted by size (largest first) is within a few percent of
//! optimal on CNN chains and never places two live buffers on the same floats.

/// Offsets are multiples of this many floats (64 bytes, one cache line and one AVX-512 vector).
pub(crate) const ALIGN: usize = 16;

/// A buffer to place: `len` floats live during steps `first..=last`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Lifetime {
    pub len: usize,
    pub first: usize,
    pub last: usize,
}

impl Lifetime {
    fn overlaps(&self, other: &Lifetime) -> bool {
        self.first <= other.last && other.first <= self.last
    }
}

/// Offsets (in floats) for each buffer and the arena length they need, or `None` on overflow.
pub(crate) fn assign_offsets(buffers: &[Lifetime]) -> Option<(Vec<usize>, usize)> {
    let mut order: Vec<usize> = (0..buffers.len()).collect();
    order.sort_by_key(|&i| (std::cmp::Reverse(buffers[i].len), buffers[i].first, i));
    let mut offsets = vec![0usize; buffers.len()];
    let mut placed: Vec<usize> = Vec::with_capacity(buffers.len());
    let mut arena = 0usize;
    for &i in &order {
        let b = buffers[i];
        // Ranges taken by placed buffers alive at the same time, sorted by start.
        let mut taken: Vec<(usize, usize)> = placed
            .iter()
            .filter(|&&j| buffers[j].overlaps(&b))
            .map(|&j| (offsets[j], offsets[j] + buffers[j].len))
            .collect();
        taken.sort_unstable();
        let mut at = 0usize;
        for (start, end) in taken {
            if at.checked_add(b.len)? <= start {
                break;
            }
            at = at.max(end.checked_next_multiple_of(ALIGN)?);
        }
        offsets[i] = at;
        arena = arena.max(at.checked_add(b.len)?);
        placed.push(i);
    }
    Some((offsets, arena))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_disjoint(buffers: &[Lifetime], offsets: &[usize], arena: usize) {
        for (i, a) in buffers.iter().enumerate() {
            assert!(offsets[i] % ALIGN == 0 && offsets[i] + a.len <= arena);
            for (j, b) in buffers.iter().enumerate().skip(i + 1) {
                if a.overlaps(b) {
                    let disjoint = offsets[i] + a.len <= offsets[j] || offsets[j] + b.len <= offsets[i];
                    assert!(
                        disjoint,
                        "buffers {i} {a:?}@{} and {j} {b:?}@{} collide",
                        offsets[i], offsets[j]
                    );
                }
            }
        }
    }

    #[test]
    fn a_chain_reuses_two_buffers() {
        // x0 -> x1 -> x2 -> x3: each buffer read only by the next step.
        let buffers: Vec<Lifetime> = (0..4).map(|i| Lifetime { len: 100, first: i, last: i + 1 }).collect();
        let (offsets, arena) = assign_offsets(&buffers).unwrap();
        check_disjoint(&buffers, &offsets, arena);
        assert_eq!(arena, 112 + 100, "a chain needs two (aligned) buffers");
    }

    #[test]
    fn random_lifetimes_never_collide() {
        let mut rng = crate::init::NormalRng::new(3);
        for _ in 0..200 {
            let n = 1 + (rng.next_uniform() * 12.0) as usize;
            let buffers: Vec<Lifetime> = (0..n)
                .map(|_| {
                    let first = (rng.next_uniform() * 10.0) as usize;
                    let span = (rng.next_uniform() * 5.0) as usize;
                    Lifetime { len: 1 + (rng.next_uniform() * 300.0) as usize, first, last: first + span }
                })
                .collect();
            let (offsets, arena) = assign_offsets(&buffers).unwrap();
            check_disjoint(&buffers, &offsets, arena);
            let total: usize = buffers.iter().map(|b| b.len.next_multiple_of(ALIGN)).sum();
            assert!(arena <= total);
        }
    }
}
