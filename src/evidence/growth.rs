//! Polynomials in the sizes of a computation (rational coefficients), recovered exactly from
//! counts by interpolation, and how they grow: whether one is O of another as every size
//! grows, possibly within a regime (`n >= d`), decided exactly from their exponents.
//!
//! For polynomials with positive coefficients in sizes x ≥ 1, p = O(q) holds exactly when no
//! direction u ≥ 0 (in log-size space, within the regime's cone) has u·a > max_b u·b for a
//! term x^a of p and the terms x^b of q: along such a u, x = 2^(s·u), p/q grows without
//! bound; and if there is none, every point of the region lies on such a ray, where x^a is at
//! most the largest x^b. The worst u for one term is a linear program, solved here exactly by
//! visiting the vertices of its small feasible set.

use std::collections::BTreeMap;
use std::fmt;

use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{One, Signed, ToPrimitive, Zero};

/// A monomial: the exponent of each size that occurs.
pub type Monomial = BTreeMap<String, u32>;

#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Poly {
    terms: BTreeMap<Monomial, BigRational>,
}

fn q(n: i64) -> BigRational {
    BigRational::from_integer(n.into())
}

impl Poly {
    pub fn constant(c: BigRational) -> Poly {
        let mut p = Poly::default();
        if !c.is_zero() {
            p.terms.insert(Monomial::new(), c);
        }
        p
    }

    pub fn int(n: i64) -> Poly {
        Poly::constant(q(n))
    }

    pub fn var(name: &str) -> Poly {
        Poly { terms: BTreeMap::from([(Monomial::from([(name.to_string(), 1)]), BigRational::one())]) }
    }

    pub fn terms(&self) -> impl Iterator<Item = (&Monomial, &BigRational)> {
        self.terms.iter()
    }

    pub fn is_zero(&self) -> bool {
        self.terms.is_empty()
    }

    /// The value, if it is a constant.
    pub fn as_constant(&self) -> Option<BigRational> {
        match self.terms.len() {
            0 => Some(BigRational::zero()),
            1 => self.terms.get(&Monomial::new()).cloned(),
            _ => None,
        }
    }

    /// The highest exponent of `var` in any term.
    pub fn degree(&self, var: &str) -> u32 {
        self.terms.keys().filter_map(|m| m.get(var)).copied().max().unwrap_or(0)
    }

    pub fn vars(&self) -> Vec<String> {
        let mut v: Vec<String> = self.terms.keys().flat_map(|m| m.keys().cloned()).collect();
        v.sort();
        v.dedup();
        v
    }

    fn add_term(&mut self, m: Monomial, c: BigRational) {
        let entry = self.terms.entry(m).or_insert_with(BigRational::zero);
        *entry += c;
        self.terms.retain(|_, c| !c.is_zero());
    }

    /// The same terms, each with coefficient 1: the shape of a growth class.
    pub fn monomials(&self) -> Poly {
        Poly { terms: self.terms.keys().map(|m| (m.clone(), BigRational::one())).collect() }
    }

    pub fn scale(&self, c: &BigRational) -> Poly {
        let mut out = Poly::default();
        for (m, k) in &self.terms {
            out.add_term(m.clone(), k * c);
        }
        out
    }

    pub fn eval(&self, sizes: &BTreeMap<String, BigInt>) -> BigRational {
        let mut total = BigRational::zero();
        for (m, c) in &self.terms {
            let mut term = c.clone();
            for (v, e) in m {
                let x = sizes.get(v).cloned().unwrap_or_default();
                term *= BigRational::from_integer(num_traits::pow(x, *e as usize));
            }
            total += term;
        }
        total
    }

    /// The terms with positive coefficients: at least the polynomial wherever sizes are
    /// positive.
    pub fn positive_terms(&self) -> Poly {
        Poly { terms: self.terms.iter().filter(|(_, c)| c.is_positive()).map(|(m, c)| (m.clone(), c.clone())).collect() }
    }

    /// The terms with positive coefficients, if every negative term is strictly smaller in
    /// every exponent than a positive one (then the two grow alike once every size is large:
    /// `(h - 1)·n·d` is at least half of `h·n·d` from h = 2).
    pub fn dominant_part(&self) -> Option<Poly> {
        let positive: Vec<&Monomial> = self.terms.iter().filter(|(_, c)| c.is_positive()).map(|(m, _)| m).collect();
        let absorbed = |a: &Monomial| positive.iter().any(|b| *b != a && a.iter().all(|(v, e)| b.get(v).is_some_and(|f| f >= e)));
        self.terms
            .iter()
            .filter(|(_, c)| c.is_negative())
            .all(|(m, _)| absorbed(m))
            .then(|| Poly { terms: self.terms.iter().filter(|(_, c)| c.is_positive()).map(|(m, c)| (m.clone(), c.clone())).collect() })
    }

    /// The language's syntax: `2*n^2*d + 3*n^2`, highest total degree first.
    pub fn text(&self) -> String {
        self.render(|v, e| if e == 1 { v.to_string() } else { format!("{v}^{e}") }, "*")
    }

    pub fn latex(&self) -> String {
        self.render(|v, e| if e == 1 { v.to_string() } else { format!("{v}^{{{e}}}") }, " ")
    }

    fn render(&self, power: impl Fn(&str, u32) -> String, times: &str) -> String {
        if self.terms.is_empty() {
            return "0".into();
        }
        let mut terms: Vec<(&Monomial, &BigRational)> = self.terms.iter().collect();
        terms.sort_by_key(|(m, _)| std::cmp::Reverse(m.values().sum::<u32>()));
        let mut out = String::new();
        for (i, (m, c)) in terms.into_iter().enumerate() {
            let mut factors: Vec<(&String, &u32)> = m.iter().collect();
            factors.sort_by_key(|(v, e)| (std::cmp::Reverse(**e), (*v).clone()));
            let factors: Vec<String> = factors.into_iter().map(|(v, e)| power(v, *e)).collect();
            let size = c.abs();
            let body = match (size.is_one(), factors.is_empty()) {
                (true, true) => "1".into(),
                (true, false) => factors.join(times),
                (false, true) => size.to_string(),
                (false, false) => format!("{size}{times}{}", factors.join(times)),
            };
            let sign = match (i, c.is_negative()) {
                (0, false) => "",
                (0, true) => "-",
                (_, false) => " + ",
                (_, true) => " - ",
            };
            out.push_str(sign);
            out.push_str(&body);
        }
        out
    }
}

impl fmt::Display for Poly {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(&self.text())
    }
}

impl std::ops::Add for Poly {
    type Output = Poly;
    fn add(mut self, other: Poly) -> Poly {
        for (m, c) in other.terms {
            self.add_term(m, c);
        }
        self
    }
}

impl std::ops::Sub for Poly {
    type Output = Poly;
    fn sub(self, other: Poly) -> Poly {
        self + other.scale(&-BigRational::one())
    }
}

impl std::ops::Mul for Poly {
    type Output = Poly;
    fn mul(self, other: Poly) -> Poly {
        let mut out = Poly::default();
        for (a, c) in &self.terms {
            for (b, d) in &other.terms {
                let mut m = a.clone();
                for (v, e) in b {
                    *m.entry(v.clone()).or_insert(0) += e;
                }
                out.add_term(m, c * d);
            }
        }
        out
    }
}

/// A count at whole sizes.
pub type Counter<'a, E> = dyn FnMut(&BTreeMap<String, BigInt>) -> Result<BigInt, E> + 'a;

/// The polynomial through `count` at every point of a grid: each variable takes the values
/// of its list (one more than its degree). Multivariate Newton interpolation, one variable
/// at a time, exact over the rationals.
pub fn interpolate<E>(vars: &[(String, Vec<i64>)], count: &mut Counter<E>) -> Result<Poly, E> {
    fn go<E>(vars: &[(String, Vec<i64>)], fixed: &mut BTreeMap<String, BigInt>, count: &mut Counter<E>) -> Result<Poly, E> {
        let Some(((var, xs), rest)) = vars.split_first() else {
            return Ok(Poly::constant(BigRational::from_integer(count(fixed)?)));
        };
        let mut values = Vec::new();
        for x in xs {
            fixed.insert(var.clone(), (*x).into());
            values.push(go(rest, fixed, count)?);
        }
        fixed.remove(var);
        // Divided differences in place, then the Newton form expanded.
        let n = xs.len();
        for k in 1..n {
            for j in (k..n).rev() {
                let step = q(xs[j] - xs[j - k]);
                values[j] = (values[j].clone() - values[j - 1].clone()).scale(&(BigRational::one() / step));
            }
        }
        let mut out = Poly::default();
        let mut basis = Poly::int(1);
        for (k, c) in values.into_iter().enumerate() {
            out = out + c * basis.clone();
            basis = basis * (Poly::var(var) - Poly::int(xs[k]));
        }
        Ok(out)
    }
    go(vars, &mut BTreeMap::new(), count)
}

/// A regime: the first size at least the second (`n >= d`).
pub type Regime = (String, String);

/// Whether `p = O(q)` as every size grows (within the regime), for `p` and `q` with positive
/// coefficients. If not, a direction along which `p/q` grows without bound: the exponent of
/// 2 for each size (whole numbers), and the rate (how much faster `p` grows per unit);
/// `Err(None)` if the program found no vertex (it always has one: undecided, never "holds").
pub fn big_o(p: &Poly, q: &Poly, regime: &[Regime]) -> Result<(), Option<Direction>> {
    let mut vars: Vec<String> = p.vars().into_iter().chain(q.vars()).chain(regime.iter().flat_map(|(a, b)| [a.clone(), b.clone()])).collect();
    vars.sort();
    vars.dedup();
    let exps = |m: &Monomial| vars.iter().map(|v| q_u(m.get(v).copied().unwrap_or(0))).collect::<Vec<BigRational>>();
    let b: Vec<Vec<BigRational>> = q.terms.keys().map(exps).collect();
    let mut worst: Option<Direction> = None;
    for a in p.terms.keys().map(exps) {
        if vars.is_empty() {
            continue;
        }
        let Some((u, gap)) = worst_direction(&a, &b, &vars, regime) else { return Err(None) };
        if gap.is_positive() && worst.as_ref().is_none_or(|w| gap > w.gap) {
            worst = Some(Direction::new(&vars, u, gap));
        }
    }
    match worst {
        None => Ok(()),
        Some(d) => Err(Some(d)),
    }
}

fn q_u(e: u32) -> BigRational {
    q(i64::from(e))
}

/// A direction of growth: sizes `2^(s·steps[i])` as `s` grows.
#[derive(Clone, Debug, PartialEq)]
pub struct Direction {
    pub steps: BTreeMap<String, u32>,
    /// How much faster (in powers of 2 per unit of `s`) the first grows than the second.
    pub gap: BigRational,
}

impl Direction {
    fn new(vars: &[String], u: Vec<BigRational>, gap: BigRational) -> Direction {
        // Whole steps: clear the denominators.
        let lcm = u.iter().fold(BigInt::one(), |acc, x| {
            let g = gcd(acc.clone(), x.denom().clone());
            acc * x.denom() / g
        });
        let whole: Vec<BigInt> = u.iter().map(|x| (x * BigRational::from_integer(lcm.clone())).to_integer()).collect();
        let g = whole.iter().fold(BigInt::zero(), |acc, x| gcd(acc, x.clone()));
        let g = if g.is_zero() { BigInt::one() } else { g };
        let steps = vars.iter().cloned().zip(whole.iter().map(|x| (x / &g).to_u32().unwrap_or(0))).collect();
        Direction { steps, gap: gap * BigRational::from_integer(lcm) / BigRational::from_integer(g) }
    }

    /// The sizes at `s`.
    pub fn sizes(&self, s: u32) -> BTreeMap<String, BigInt> {
        self.steps.iter().map(|(v, k)| (v.clone(), num_traits::pow(BigInt::from(2), (k * s) as usize))).collect()
    }

    /// `n = 2^s, d fixed` or `n = 2^(2s), d = 2^s`.
    pub fn describe(&self) -> String {
        let moving: Vec<String> =
            self.steps.iter().filter(|(_, k)| **k > 0).map(|(v, k)| if *k == 1 { format!("{v} = 2^s") } else { format!("{v} = 2^({k}s)") }).collect();
        let fixed: Vec<&str> = self.steps.iter().filter(|(_, k)| **k == 0).map(|(v, _)| v.as_str()).collect();
        match fixed.len() {
            0 => moving.join(", "),
            _ => format!("{} with {} fixed", moving.join(", "), fixed.join(", ")),
        }
    }
}

/// The direction u (u ≥ 0, Σu = 1, within the regime) maximizing `u·a − max_b u·b`, and that
/// maximum. The feasible set of (u, t) with t ≤ u·(a − b) for every b is pointed, so the
/// maximum of t sits at a vertex: k of the inequalities tight with Σu = 1.
fn worst_direction(a: &[BigRational], b: &[Vec<BigRational>], vars: &[String], regime: &[Regime]) -> Option<(Vec<BigRational>, BigRational)> {
    let k = vars.len();
    let at = |v: &str| vars.iter().position(|x| x == v).expect("regime sizes are among the variables");
    // Inequalities row·(u, t) ≥ 0.
    let mut rows: Vec<Vec<BigRational>> = Vec::new();
    for i in 0..k {
        let mut r = vec![BigRational::zero(); k + 1];
        r[i] = BigRational::one();
        rows.push(r);
    }
    for (big, small) in regime {
        let mut r = vec![BigRational::zero(); k + 1];
        r[at(big)] += BigRational::one();
        r[at(small)] -= BigRational::one();
        rows.push(r);
    }
    for bj in b {
        let mut r: Vec<BigRational> = a.iter().zip(bj).map(|(x, y)| x - y).collect();
        r.push(-BigRational::one());
        rows.push(r);
    }
    let mut sum_row = vec![BigRational::one(); k];
    sum_row.push(BigRational::zero());
    let mut best: Option<(Vec<BigRational>, BigRational)> = None;
    for chosen in combinations(rows.len(), k) {
        let mut system: Vec<Vec<BigRational>> = chosen.iter().map(|&i| rows[i].iter().cloned().chain([BigRational::zero()]).collect()).collect();
        system.push(sum_row.iter().cloned().chain([BigRational::one()]).collect());
        let Some(x) = solve(system) else { continue };
        if rows.iter().all(|r| r.iter().zip(&x).map(|(c, v)| c * v).sum::<BigRational>() >= BigRational::zero())
            && best.as_ref().is_none_or(|(_, t)| x[k] > *t)
        {
            best = Some((x[..k].to_vec(), x[k].clone()));
        }
    }
    best
}

fn gcd(a: BigInt, b: BigInt) -> BigInt {
    if b.is_zero() { a.abs() } else { gcd(b.clone(), a % b) }
}

fn combinations(n: usize, k: usize) -> Vec<Vec<usize>> {
    if k == 0 {
        return vec![vec![]];
    }
    if n < k {
        return vec![];
    }
    let mut out = combinations(n - 1, k);
    for mut c in combinations(n - 1, k - 1) {
        c.push(n - 1);
        out.push(c);
    }
    out
}

/// The unique solution of a square system given as augmented rows, if there is one.
fn solve(mut m: Vec<Vec<BigRational>>) -> Option<Vec<BigRational>> {
    let n = m.len();
    for col in 0..n {
        let pivot = (col..n).find(|&r| !m[r][col].is_zero())?;
        m.swap(col, pivot);
        let p = m[col][col].clone();
        for x in m[col].iter_mut() {
            *x /= p.clone();
        }
        for r in 0..n {
            if r != col && !m[r][col].is_zero() {
                let f = m[r][col].clone();
                let pivot_row = m[col].clone();
                for (x, y) in m[r].iter_mut().zip(pivot_row) {
                    *x -= f.clone() * y;
                }
            }
        }
    }
    Some(m.into_iter().map(|r| r[n].clone()).collect())
}

/// The terms of `p` (positive coefficients) that no other terms outgrow: what Θ(p) is.
pub fn leading_terms(p: &Poly, regime: &[Regime]) -> Poly {
    let mut out = Poly::default();
    for (m, c) in &p.terms {
        let one = Poly { terms: BTreeMap::from([(m.clone(), BigRational::one())]) };
        let others = Poly { terms: p.terms.iter().filter(|(n, _)| *n != m).map(|(n, c)| (n.clone(), c.clone())).collect() };
        if others.is_zero() || big_o(&one, &others, regime).is_err() {
            out.add_term(m.clone(), c.clone());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn poly(terms: &[(&[(&str, u32)], i64)]) -> Poly {
        terms.iter().fold(Poly::default(), |acc, (m, c)| {
            let mono = m.iter().fold(Poly::int(*c), |p, (v, e)| (0..*e).fold(p, |p, _| p * Poly::var(v)));
            acc + mono
        })
    }

    #[test]
    fn interpolation_recovers_a_polynomial_in_three_sizes() {
        let p = poly(&[(&[("n", 2), ("d", 1)], 2), (&[("n", 2)], 3), (&[("h", 1), ("n", 1), ("d", 1)], 1), (&[("n", 1), ("d", 1)], -1)]);
        let grid: Vec<(String, Vec<i64>)> = [("d", 3), ("h", 2), ("n", 4)].iter().map(|(v, k)| (v.to_string(), (2..2 + k).collect())).collect();
        let got = interpolate::<()>(&grid, &mut |s| Ok(p.eval(s).to_integer())).unwrap();
        assert_eq!(got, p);
    }

    #[test]
    fn big_o_compares_exponents_in_every_direction() {
        let n2d = poly(&[(&[("n", 2), ("d", 1)], 1)]);
        let nd = poly(&[(&[("n", 1), ("d", 1)], 1)]);
        let n2_d2 = poly(&[(&[("n", 2)], 1), (&[("d", 2)], 1)]);
        assert!(big_o(&nd, &n2d, &[]).is_ok());
        let along = big_o(&n2d, &nd, &[]).unwrap_err().unwrap();
        assert_eq!(along.steps, BTreeMap::from([("d".to_string(), 0), ("n".to_string(), 1)]));
        // n·d is O(n² + d²) though neither term alone bounds it.
        assert!(big_o(&nd, &n2_d2, &[]).is_ok());
        assert!(big_o(&n2_d2, &nd, &[]).is_err());
        // n·d² is not O(n²·d), but is when n >= d.
        let nd2 = poly(&[(&[("n", 1), ("d", 2)], 1)]);
        assert!(big_o(&nd2, &n2d, &[]).is_err());
        assert!(big_o(&nd2, &n2d, &[("n".into(), "d".into())]).is_ok());
    }

    #[test]
    fn leading_terms_and_negative_terms() {
        let p = poly(&[(&[("n", 2), ("d", 1)], 2), (&[("n", 2)], 3), (&[("n", 1), ("d", 2)], 1)]);
        assert_eq!(leading_terms(&p, &[]).text(), "2*n^2*d + d^2*n");
        assert_eq!(leading_terms(&p, &[("n".into(), "d".into())]).text(), "2*n^2*d");
        let with_negative = poly(&[(&[("h", 1), ("n", 1)], 1), (&[("n", 1)], -1)]);
        assert_eq!(with_negative.dominant_part().unwrap().text(), "h*n");
        assert!(poly(&[(&[("h", 1)], 1), (&[("n", 1)], -1)]).dominant_part().is_none());
    }
}
