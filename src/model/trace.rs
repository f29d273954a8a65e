//! Tracing one evaluation of a model into a flat tape over `f64`, for Monte Carlo: `Traced`
//! is a number that computes its `f64` value and records the operation that made it, so a
//! `Model<Traced>` resolves names, definitions, recurrences, vectors and built-ins once, and
//! what is left is straight-line arithmetic from the path's standard normal draws.
//!
//! The tape is then run over many paths at a time, lane by lane (`Tape::run`), with every
//! operation a loop the compiler vectorizes. It computes exactly what `Model<f64>` computes
//! on the same draws, operation for operation: every decision the model took on a traced
//! value (a comparison, a zero test, a domain check) is recorded as a guard, and a path
//! whose values would decide otherwise is reported, to be evaluated by the model itself.
//! Whatever cannot be recorded (a random value used as a key, printed, or converted) poisons
//! the trace, and the caller evaluates path by path instead.

use std::cell::RefCell;
use std::cmp::Ordering;
use std::fmt::{Debug, Display};

use num_rational::BigRational;
use num_traits::{One, Zero};

use super::KeyPart;
use super::number::Number;

/// A number of a traced evaluation: its value on the traced path, and the tape node that
/// computes it on any path (`None`: a constant, the same on every path).
#[derive(Clone, Copy, Debug)]
pub struct Traced {
    value: f64,
    node: Option<u32>,
}

/// One operation of the tape; operands are earlier nodes.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Op {
    /// The path's next standard normal draw.
    Normal,
    Const(f64),
    Add(u32, u32),
    Sub(u32, u32),
    Mul(u32, u32),
    Div(u32, u32),
    Neg(u32),
    Exp(u32),
    Ln(u32),
    Sqrt(u32),
    Pow(u32, u32),
}

/// A decision the traced evaluation took, which every path must take alike.
#[derive(Clone, Copy, Debug)]
enum Test {
    /// `partial_cmp(a, b)` as it was.
    Compare(u32, u32, Option<Ordering>),
    /// `a < b`, `a <= b` or `a == b` as it was.
    Holds(u32, u32, Relation, bool),
    /// `f64::is_finite(a)` as it was.
    Finite(u32, bool),
    /// `Number::same(a, b)` (equal to a relative 1e-10) as it was.
    Same(u32, u32, bool),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Relation {
    Less,
    LessOrEqual,
    Equal,
}

impl Relation {
    fn holds(self, a: f64, b: f64) -> bool {
        match self {
            Relation::Less => a < b,
            Relation::LessOrEqual => a <= b,
            Relation::Equal => a == b,
        }
    }
}

/// What happens after a node is computed: a test, or a point's two sides handed out.
#[derive(Clone, Copy, Debug)]
enum Event {
    Test(Test),
    Sides { point: usize, a: u32, b: u32 },
}

#[derive(Default)]
struct Builder {
    ops: Vec<Op>,
    /// The node of each constant (by its bits): one per value, filled once per run.
    constants: std::collections::HashMap<u64, u32>,
    /// Events, each after the node count at which it was recorded.
    events: Vec<(usize, Event)>,
    poisoned: Option<String>,
}

/// How many nodes a trace may record (what a batch of lanes keeps is bounded separately).
const MAX_NODES: usize = 4_000_000;

thread_local! {
    static BUILDER: RefCell<Option<Builder>> = const { RefCell::new(None) };
}

fn with_builder<T>(f: impl FnOnce(&mut Builder) -> T) -> T {
    BUILDER.with(|b| f(b.borrow_mut().as_mut().expect("a traced number outside a trace")))
}

fn record(op: Op) -> u32 {
    with_builder(|b| {
        if b.ops.len() >= MAX_NODES {
            b.poisoned.get_or_insert_with(|| format!("the evaluation takes more than {MAX_NODES} operations"));
        }
        b.ops.push(op);
        (b.ops.len() - 1) as u32
    })
}

fn poison(why: &str) {
    with_builder(|b| {
        b.poisoned.get_or_insert_with(|| why.to_string());
    })
}

impl Traced {
    /// Its value on the traced path.
    pub fn on_trace(&self) -> f64 {
        self.value
    }

    fn constant(value: f64) -> Traced {
        Traced { value, node: None }
    }

    /// The node that computes it (a constant gets one).
    fn node(&self) -> u32 {
        self.node.unwrap_or_else(|| {
            let known = with_builder(|b| b.constants.get(&self.value.to_bits()).copied());
            known.unwrap_or_else(|| {
                let node = record(Op::Const(self.value));
                with_builder(|b| b.constants.insert(self.value.to_bits(), node));
                node
            })
        })
    }

    fn unary(self, value: f64, op: fn(u32) -> Op) -> Traced {
        Traced { value, node: self.node.map(|a| record(op(a))) }
    }

    fn binary(self, other: Traced, value: f64, op: fn(u32, u32) -> Op) -> Traced {
        match (self.node, other.node) {
            (None, None) => Traced::constant(value),
            _ => Traced { value, node: Some(record(op(self.node(), other.node()))) },
        }
    }

    fn test(&self, other: Option<&Traced>, test: impl FnOnce(u32, u32) -> Test) {
        let random = self.node.is_some() || other.is_some_and(|o| o.node.is_some());
        if random {
            let (a, b) = (self.node(), other.map_or(0, Traced::node));
            with_builder(|builder| {
                let at = builder.ops.len();
                builder.events.push((at, Event::Test(test(a, b))));
            });
        }
    }

    /// A number only a constant can give (a key, a float for outside use, text).
    fn known(&self, use_: &str) -> f64 {
        if self.node.is_some() {
            poison(&format!("a random value is used as {use_}"));
        }
        self.value
    }
}

impl Traced {
    /// `self REL other`, recorded.
    fn relation(&self, relation: Relation, other: &Traced) -> bool {
        let holds = relation.holds(self.value, other.value);
        self.test(Some(other), |a, b| Test::Holds(a, b, relation, holds));
        holds
    }
}

// Each comparison records only what it decided: `x < 0` must come out the same on every path,
// not the whole ordering.
impl PartialEq for Traced {
    fn eq(&self, other: &Self) -> bool {
        self.relation(Relation::Equal, other)
    }
}

impl PartialOrd for Traced {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        let ordering = self.value.partial_cmp(&other.value);
        self.test(Some(other), |a, b| Test::Compare(a, b, ordering));
        ordering
    }
    fn lt(&self, other: &Self) -> bool {
        self.relation(Relation::Less, other)
    }
    fn le(&self, other: &Self) -> bool {
        self.relation(Relation::LessOrEqual, other)
    }
    fn gt(&self, other: &Self) -> bool {
        other.relation(Relation::Less, self)
    }
    fn ge(&self, other: &Self) -> bool {
        other.relation(Relation::LessOrEqual, self)
    }
}

impl Display for Traced {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.known("text"))
    }
}

impl Zero for Traced {
    fn zero() -> Self {
        Traced::constant(0.0)
    }
    fn is_zero(&self) -> bool {
        *self == Traced::zero()
    }
}

impl One for Traced {
    fn one() -> Self {
        Traced::constant(1.0)
    }
}

impl std::ops::Add for Traced {
    type Output = Traced;
    fn add(self, o: Traced) -> Traced {
        self.binary(o, self.value + o.value, Op::Add)
    }
}

impl std::ops::Sub for Traced {
    type Output = Traced;
    fn sub(self, o: Traced) -> Traced {
        self.binary(o, self.value - o.value, Op::Sub)
    }
}

impl std::ops::Mul for Traced {
    type Output = Traced;
    fn mul(self, o: Traced) -> Traced {
        self.binary(o, self.value * o.value, Op::Mul)
    }
}

impl std::ops::Div for Traced {
    type Output = Traced;
    fn div(self, o: Traced) -> Traced {
        self.binary(o, self.value / o.value, Op::Div)
    }
}

impl std::ops::Neg for Traced {
    type Output = Traced;
    fn neg(self) -> Traced {
        self.unary(-self.value, Op::Neg)
    }
}

impl std::ops::AddAssign for Traced {
    fn add_assign(&mut self, o: Traced) {
        *self = *self + o;
    }
}

impl std::ops::MulAssign for Traced {
    fn mul_assign(&mut self, o: Traced) {
        *self = *self * o;
    }
}

impl Number for Traced {
    fn from_rational(r: &BigRational) -> Self {
        Traced::constant(f64::from_rational(r))
    }
    fn from_f64(x: f64) -> Self {
        Traced::constant(x)
    }
    fn normal(z: f64) -> Self {
        Traced { value: z, node: Some(record(Op::Normal)) }
    }
    fn key(&self) -> KeyPart {
        self.known("a key").key()
    }
    // Each as `f64`'s, its domain test recorded.
    fn exp(&self) -> Option<Self> {
        let e = self.unary(self.value.exp(), Op::Exp);
        // Below double precision's normal range the model notes a loss of digits: every path
        // must fall on the same side as the traced one.
        e.relation(Relation::Less, &Traced::constant(f64::MIN_POSITIVE));
        Some(e)
    }
    fn ln(&self) -> Option<Self> {
        (*self > Traced::zero()).then(|| self.unary(self.value.ln(), Op::Ln))
    }
    fn sqrt(&self) -> Option<Self> {
        (*self >= Traced::zero()).then(|| self.unary(self.value.sqrt(), Op::Sqrt))
    }
    fn pow(&self, exponent: &Self) -> Option<Self> {
        let p = self.binary(*exponent, self.value.powf(exponent.value), Op::Pow);
        p.finite().then_some(p)
    }
    fn as_index(&self) -> Option<i64> {
        self.known("an index").as_index()
    }
    fn same(&self, other: &Self) -> bool {
        let same = self.value.same(&other.value);
        self.test(Some(other), |a, b| Test::Same(a, b, same));
        same
    }
    fn finite(&self) -> bool {
        let finite = self.value.is_finite();
        self.test(None, |a, _| Test::Finite(a, finite));
        finite
    }
    fn to_f64(&self) -> f64 {
        self.known("a float outside the tape")
    }
    const EXACT: bool = false;
}

/// A traced evaluation of one path: start it, evaluate with `Traced` numbers, hand out each
/// point's sides with `sides`, and finish it into a tape.
pub struct Trace(());

impl Trace {
    pub fn start() -> Trace {
        BUILDER.with(|b| *b.borrow_mut() = Some(Builder::default()));
        Trace(())
    }

    /// The two sides of point `point`, as the tape must hand them out.
    pub fn sides(&self, point: usize, a: Traced, b: Traced) {
        let (a, b) = (a.node(), b.node());
        with_builder(|builder| {
            let at = builder.ops.len();
            builder.events.push((at, Event::Sides { point, a, b }));
        });
    }

    /// The tape, or why the evaluation could not be traced.
    pub fn finish(self) -> Result<Tape, String> {
        let builder = BUILDER.with(|b| b.borrow_mut().take()).expect("a trace in progress");
        if let Some(why) = builder.poisoned {
            return Err(why);
        }
        Ok(Tape::compile(builder))
    }
}

impl Drop for Trace {
    fn drop(&mut self) {
        BUILDER.with(|b| *b.borrow_mut() = None);
    }
}

/// Paths evaluated at once, one per lane.
pub const LANES: usize = 64;

/// A one-operand operation.
#[derive(Clone, Copy, Debug)]
enum Unary {
    Neg,
    Exp,
    Ln,
    Sqrt,
}

/// A two-operand operation.
#[derive(Clone, Copy, Debug)]
enum Binary {
    Add,
    Sub,
    Mul,
    Div,
    Pow,
}

/// One operation over registers (slots of `LANES` values).
#[derive(Clone, Copy, Debug)]
enum Step {
    Normal(usize),
    Const(usize, f64),
    Unary(Unary, usize, usize),
    Binary(Binary, usize, usize, usize),
    Test(Test, usize, usize),
    Sides(usize, usize, usize),
}

/// A traced evaluation as straight-line steps over a few registers: a register is reused
/// once the node it held is not read again.
#[derive(Debug, Clone)]
pub struct Tape {
    steps: Vec<Step>,
    registers: usize,
    /// Standard normal draws per path.
    pub normals: usize,
    /// Points whose sides it hands out.
    pub points: usize,
}

fn operands(op: &Op) -> Vec<u32> {
    match *op {
        Op::Normal | Op::Const(_) => vec![],
        Op::Neg(a) | Op::Exp(a) | Op::Ln(a) | Op::Sqrt(a) => vec![a],
        Op::Add(a, b) | Op::Sub(a, b) | Op::Mul(a, b) | Op::Div(a, b) | Op::Pow(a, b) => vec![a, b],
    }
}

fn event_operands(e: &Event) -> Vec<u32> {
    match *e {
        Event::Test(Test::Compare(a, b, _) | Test::Holds(a, b, ..) | Test::Same(a, b, _)) | Event::Sides { a, b, .. } => vec![a, b],
        Event::Test(Test::Finite(a, _)) => vec![a],
    }
}

impl Tape {
    fn compile(builder: Builder) -> Tape {
        let Builder { ops, events, .. } = builder;
        // Positions: node `i` is computed at `2i + 1`; an event recorded after `at` nodes runs
        // at `2at`, after node `at - 1` and before node `at`.
        let mut last: Vec<Option<usize>> = vec![None; ops.len()];
        for (i, op) in ops.iter().enumerate() {
            for a in operands(op) {
                last[a as usize] = last[a as usize].max(Some(2 * i + 1));
            }
        }
        for (at, e) in &events {
            for a in event_operands(e) {
                last[a as usize] = last[a as usize].max(Some(2 * at));
            }
        }
        let mut register = vec![usize::MAX; ops.len()];
        let mut free: Vec<usize> = Vec::new();
        let mut registers = 0;
        let mut steps = Vec::with_capacity(ops.len() + events.len());
        let (mut normals, mut points) = (0, 0);
        let release = |nodes: &[u32], position: usize, register: &[usize], free: &mut Vec<usize>| {
            for &n in nodes {
                if last[n as usize] == Some(position) && !free.contains(&register[n as usize]) {
                    free.push(register[n as usize]);
                }
            }
        };
        let mut pending = events.iter().peekable();
        for i in 0..=ops.len() {
            while let Some((at, e)) = pending.next_if(|(at, _)| *at <= i) {
                let r = |a: u32| register[a as usize];
                steps.push(match *e {
                    Event::Test(t @ (Test::Compare(a, b, _) | Test::Holds(a, b, ..) | Test::Same(a, b, _))) => Step::Test(t, r(a), r(b)),
                    Event::Test(t @ Test::Finite(a, _)) => Step::Test(t, r(a), r(a)),
                    Event::Sides { point, a, b } => {
                        points = points.max(point + 1);
                        Step::Sides(point, r(a), r(b))
                    }
                });
                release(&event_operands(e), 2 * at, &register, &mut free);
            }
            let Some(op) = ops.get(i) else { break };
            let out = free.pop().unwrap_or_else(|| {
                registers += 1;
                registers - 1
            });
            let r = |a: u32| register[a as usize];
            steps.push(match *op {
                Op::Normal => {
                    normals += 1;
                    Step::Normal(out)
                }
                Op::Const(c) => Step::Const(out, c),
                Op::Neg(a) => Step::Unary(Unary::Neg, r(a), out),
                Op::Exp(a) => Step::Unary(Unary::Exp, r(a), out),
                Op::Ln(a) => Step::Unary(Unary::Ln, r(a), out),
                Op::Sqrt(a) => Step::Unary(Unary::Sqrt, r(a), out),
                Op::Add(a, b) => Step::Binary(Binary::Add, r(a), r(b), out),
                Op::Sub(a, b) => Step::Binary(Binary::Sub, r(a), r(b), out),
                Op::Mul(a, b) => Step::Binary(Binary::Mul, r(a), r(b), out),
                Op::Div(a, b) => Step::Binary(Binary::Div, r(a), r(b), out),
                Op::Pow(a, b) => Step::Binary(Binary::Pow, r(a), r(b), out),
            });
            register[i] = out;
            release(&operands(op), 2 * i + 1, &register, &mut free);
            // A node nobody reads frees its register at once.
            if last[i].is_none() {
                free.push(out);
            }
        }
        Tape { steps, registers: registers.max(1), normals, points }
    }

    /// Runs `lanes` paths (at most `LANES`) at once: `normals(draws)` fills the first `lanes`
    /// entries of `draws` with each lane's next draw, in the order the path makes them;
    /// `sides[point]` receives each point's two sides, lane by lane. Returns the lanes (as bits) a test failed on: their values are not what the
    /// model computes, and they must be evaluated by it.
    #[inline(always)]
    pub fn run(&self, lanes: usize, mut normals: impl FnMut(&mut [f64]), sides: &mut [[[f64; LANES]; 2]], registers: &mut Vec<[f64; LANES]>) -> u64 {
        registers.resize(self.registers, [0.0; LANES]);
        let mut failed = 0u64;
        for step in &self.steps {
            match *step {
                Step::Normal(out) => normals(&mut registers[out][..lanes]),
                Step::Const(out, c) => registers[out] = [c; LANES],
                Step::Unary(op, a, out) => match op {
                    Unary::Neg => unary(registers, a, out, |x| -x),
                    Unary::Exp => unary(registers, a, out, f64::exp),
                    Unary::Ln => unary(registers, a, out, f64::ln),
                    Unary::Sqrt => unary(registers, a, out, f64::sqrt),
                },
                Step::Binary(op, a, b, out) => match op {
                    Binary::Add => binary(registers, a, b, out, |x, y| x + y),
                    Binary::Sub => binary(registers, a, b, out, |x, y| x - y),
                    Binary::Mul => binary(registers, a, b, out, |x, y| x * y),
                    Binary::Div => binary(registers, a, b, out, |x, y| x / y),
                    Binary::Pow => binary(registers, a, b, out, f64::powf),
                },
                Step::Test(test, a, b) => {
                    let (x, y) = (&registers[a], &registers[b]);
                    let fails = |differs: &dyn Fn(usize) -> bool| (0..lanes).filter(|&l| differs(l)).fold(0u64, |m, l| m | 1 << l);
                    failed |= match test {
                        Test::Compare(_, _, ordering) => fails(&|l| x[l].partial_cmp(&y[l]) != ordering),
                        Test::Holds(_, _, Relation::Equal, holds) => fails(&|l| (x[l] == y[l]) != holds),
                        Test::Holds(_, _, relation, holds) => fails(&|l| relation.holds(x[l], y[l]) != holds),
                        Test::Finite(_, finite) => fails(&|l| x[l].is_finite() != finite),
                        Test::Same(_, _, same) => fails(&|l| x[l].same(&y[l]) != same),
                    };
                }
                Step::Sides(point, a, b) => {
                    sides[point][0] = registers[a];
                    sides[point][1] = registers[b];
                }
            }
        }
        failed
    }
}

#[inline(always)]
fn unary(registers: &mut [[f64; LANES]], a: usize, out: usize, f: impl Fn(f64) -> f64) {
    let [out, x] = registers.get_disjoint_mut([out, a]).expect("an operation's register is not its operand's");
    for lane in 0..LANES {
        out[lane] = f(x[lane]);
    }
}

#[inline(always)]
fn binary(registers: &mut [[f64; LANES]], a: usize, b: usize, out: usize, f: impl Fn(f64, f64) -> f64) {
    if a == b {
        let [out, x] = registers.get_disjoint_mut([out, a]).expect("an operation's register is not its operand's");
        for lane in 0..LANES {
            out[lane] = f(x[lane], x[lane]);
        }
    } else {
        let [out, x, y] = registers.get_disjoint_mut([out, a, b]).expect("an operation's register is not its operand's");
        for lane in 0..LANES {
            out[lane] = f(x[lane], y[lane]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A computation written once over any number: `Traced` records it, `f64` is the model.
    fn computation<N: Number>(z: &[N]) -> (N, N) {
        let mut acc = N::zero();
        for (i, x) in z.iter().enumerate() {
            // A decision on a random value: the tape must flag lanes that decide otherwise.
            let term = if *x < N::zero() { -x.clone() } else { x.clone() * x.clone() };
            acc = acc * N::from_f64(0.5 + i as f64) + term;
        }
        let ratio = acc.clone() / (z[0].clone() * z[0].clone() + N::one());
        (ratio.exp().unwrap() + acc.clone(), acc.sqrt().unwrap_or(N::zero()))
    }

    #[test]
    fn a_tape_computes_what_the_model_computes_and_flags_the_paths_that_decide_otherwise() {
        let traced_at = [0.3, -1.2, 2.0, 0.7];
        let trace = Trace::start();
        let z: Vec<Traced> = traced_at.iter().map(|v| Traced::normal(*v)).collect();
        let (a, b) = computation(&z);
        trace.sides(0, a, b);
        let tape = trace.finish().expect("traced");
        assert_eq!((tape.normals, tape.points), (4, 1));
        // Far fewer registers than nodes: they are reused.
        assert!(tape.registers < tape.steps.len() / 2, "{} registers for {} steps", tape.registers, tape.steps.len());
        let draws: Vec<[f64; 4]> = (0..LANES)
            .map(|l| {
                let x = l as f64;
                // Lane 0 decides like the trace; odd lanes flip the sign of the second draw.
                [0.3 + x / 100.0, if l % 2 == 1 { 1.5 } else { -1.2 - x / 50.0 }, 2.0 - x / 30.0, 0.7 * (x + 1.0).sin().abs()]
            })
            .collect();
        let mut next = 0;
        let mut sides = vec![[[0.0; LANES]; 2]];
        let failed = tape.run(
            LANES,
            |out| {
                for (lane, x) in out.iter_mut().enumerate() {
                    *x = draws[lane][next];
                }
                next += 1;
            },
            &mut sides,
            &mut Vec::new(),
        );
        for lane in 0..LANES {
            let (a, b) = computation(&draws[lane]);
            let decides_alike = draws[lane].iter().zip(traced_at).all(|(x, t)| (*x < 0.0) == (t < 0.0));
            assert_eq!(failed & (1 << lane) == 0, decides_alike, "lane {lane}");
            if decides_alike {
                assert_eq!((sides[0][0][lane].to_bits(), sides[0][1][lane].to_bits()), (a.to_bits(), b.to_bits()), "lane {lane}");
            }
        }
        assert!(failed != 0 && failed != u64::MAX);
    }

    #[test]
    fn a_random_value_used_as_a_key_poisons_the_trace() {
        let trace = Trace::start();
        let z = Traced::normal(1.0);
        let _ = (z * Traced::from_f64(2.0)).key();
        assert!(trace.finish().is_err());
        // Constants are not random: they key as doubles do.
        let trace = Trace::start();
        assert_eq!(Traced::from_f64(3.0).key(), 3.0f64.key());
        assert!(trace.finish().is_ok());
    }
}
