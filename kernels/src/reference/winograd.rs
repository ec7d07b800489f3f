//! Winograd minimal filtering `F(m x m, r x r)` derived from its interpolation points
//! (Toom-Cook with the point at infinity), computed slowly in f64: the oracle for the fast
//! transforms' constant matrices and for each transform on its own.
//!
//! With `n = m + r - 2` finite points `a_j`, `alpha = m + r - 1`, `M(x) = prod_j (x - a_j)` and
//! `M_j(x) = M(x) / (x - a_j)`:
//! - `At[i][j] = a_j^i`, and the infinity column is `e_{m-1}`;
//! - `G[j][k] = a_j^k / M_j(a_j)`, and the infinity row is `e_{r-1}`;
//! - row `j` of `Bt` holds the coefficients of `M_j` (lowest power first), the infinity row
//!   those of `M`.
//!
//! Then `Y = At [(G g Gt) . (Bt d B)] A` is the correlation of the `alpha x alpha` input tile `d`
//! with the `r x r` filter `g` (`Y[i][j] = sum_kl d[i+k][j+l] g[k][l]`).

use crate::error::{KernelError, Result};

/// The matrices of one Winograd variant, row-major.
#[derive(Clone, Debug, PartialEq)]
pub struct WinogradMatrices {
    pub m: usize,
    pub r: usize,
    pub alpha: usize,
    /// `m x alpha`
    pub at: Vec<Vec<f64>>,
    /// `alpha x r`
    pub g: Vec<Vec<f64>>,
    /// `alpha x alpha`
    pub bt: Vec<Vec<f64>>,
}

/// Coefficients (lowest power first) of `prod (x - root)`.
fn poly_from_roots(roots: impl Iterator<Item = f64>) -> Vec<f64> {
    let mut c = vec![1.0];
    for root in roots {
        let mut next = vec![0.0; c.len() + 1];
        for (i, &ci) in c.iter().enumerate() {
            next[i + 1] += ci;
            next[i] -= root * ci;
        }
        c = next;
    }
    c
}

/// Derives `F(m x m, r x r)` from its `m + r - 2` distinct finite interpolation points.
pub fn winograd_matrices(m: usize, r: usize, points: &[f64]) -> Result<WinogradMatrices> {
    if m == 0 || r == 0 || points.len() + 2 != m + r {
        return Err(KernelError::InvalidParams(format!(
            "winograd F({m},{r}): needs m, r >= 1 and m + r - 2 finite points, got {points:?}"
        )));
    }
    for (i, a) in points.iter().enumerate() {
        if !a.is_finite() || points[..i].contains(a) {
            return Err(KernelError::InvalidParams(format!(
                "winograd F({m},{r}): points {points:?} must be finite and distinct"
            )));
        }
    }
    let n = points.len();
    let alpha = n + 1;
    let others = |j: usize| points.iter().enumerate().filter(move |&(l, _)| l != j).map(|(_, &a)| a);
    let mut at = vec![vec![0.0; alpha]; m];
    for (i, row) in at.iter_mut().enumerate() {
        for (j, &a) in points.iter().enumerate() {
            row[j] = a.powi(i as i32);
        }
        row[n] = if i + 1 == m { 1.0 } else { 0.0 };
    }
    let mut g = vec![vec![0.0; r]; alpha];
    for (j, &a) in points.iter().enumerate() {
        let norm: f64 = others(j).map(|b| a - b).product();
        for (k, v) in g[j].iter_mut().enumerate() {
            *v = a.powi(k as i32) / norm;
        }
    }
    g[n][r - 1] = 1.0;
    let mut bt = vec![vec![0.0; alpha]; alpha];
    for (j, row) in bt.iter_mut().enumerate().take(n) {
        let c = poly_from_roots(others(j));
        row[..c.len()].copy_from_slice(&c);
    }
    bt[n] = poly_from_roots(points.iter().copied());
    Ok(WinogradMatrices { m, r, alpha, at, g, bt })
}

/// `a (rows x k) * b (k x cols)` for row-major nested vectors.
fn matmul(a: &[Vec<f64>], b: &[Vec<f64>]) -> Vec<Vec<f64>> {
    let cols = b.first().map_or(0, |row| row.len());
    a.iter()
        .map(|row| (0..cols).map(|j| row.iter().zip(b).map(|(&x, brow)| x * brow[j]).sum()).collect())
        .collect()
}

fn transpose(a: &[Vec<f64>]) -> Vec<Vec<f64>> {
    let cols = a.first().map_or(0, |row| row.len());
    (0..cols).map(|j| a.iter().map(|row| row[j]).collect()).collect()
}

/// `t * x * t^T` of a row-major `x` given as a flat slice of `t`'s column count squared.
fn sandwich(t: &[Vec<f64>], x: &[f64]) -> Vec<f64> {
    let k = t.first().map_or(0, |row| row.len());
    let x: Vec<Vec<f64>> = x.chunks(k.max(1)).map(|row| row.to_vec()).collect();
    matmul(&matmul(t, &x), &transpose(t)).concat()
}

impl WinogradMatrices {
    /// `G g Gt`: the `r x r` filter (row-major) to the `alpha x alpha` transform domain.
    pub fn filter_transform(&self, g: &[f64]) -> Vec<f64> {
        sandwich(&self.g, g)
    }

    /// `Bt d B`: an `alpha x alpha` input tile to the transform domain.
    pub fn input_transform(&self, d: &[f64]) -> Vec<f64> {
        sandwich(&self.bt, d)
    }

    /// `At x A`: an `alpha x alpha` transform-domain product back to the `m x m` output tile.
    pub fn output_transform(&self, x: &[f64]) -> Vec<f64> {
        sandwich(&self.at, x)
    }

    /// The `m x m` correlation of the `alpha x alpha` tile `d` with the `r x r` filter `g`,
    /// computed through the three transforms.
    pub fn correlate_tile(&self, d: &[f64], g: &[f64]) -> Vec<f64> {
        let u = self.filter_transform(g);
        let v = self.input_transform(d);
        let product: Vec<f64> = u.iter().zip(&v).map(|(a, b)| a * b).collect();
        self.output_transform(&product)
    }
}

/// The `m x m` correlation of an `alpha x alpha` tile with an `r x r` filter, by definition.
pub fn correlate_tile_direct(m: usize, r: usize, d: &[f64], g: &[f64]) -> Vec<f64> {
    let alpha = m + r - 1;
    let mut y = vec![0.0; m * m];
    for i in 0..m {
        for j in 0..m {
            for k in 0..r {
                for l in 0..r {
                    y[i * m + j] += d[(i + k) * alpha + j + l] * g[k * r + l];
                }
            }
        }
    }
    y
}
