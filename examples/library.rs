//! derivcheck from Rust: check a derivation given as text, read its verdicts, and assert an
//! identity at random rational points. Run with `cargo run --example library`.

use derivcheck::{Options, Status, check_markdown, identity};

const DERIVATION: &str = "```derivation
let beta: scalar
assume 0 < beta < 1
let g, m: sequence
def avg: m[t] = beta*m[t-1] + (1-beta)*g[t]   for t >= 1

claim two_steps: m[t] = beta^2*m[t-2] + beta*(1-beta)*g[t-1] + (1-beta)*g[t]   for t >= 2
proof
  m[t] = beta*m[t-1] + (1-beta)*g[t]                        by avg
       = beta*(beta*m[t-2] + (1-beta)*g[t-1]) + (1-beta)*g[t]  by avg
       = beta^2*m[t-2] + beta*(1-beta)*g[t-1] + (1-beta)*g[t]
qed
```
";

fn main() {
    let checked = check_markdown("two_steps.md", DERIVATION, &Options::default()).expect("the derivation parses");
    let claim = checked.results.claim("two_steps").expect("the claim was checked");
    println!("two_steps: {}", claim.status.name());
    for step in claim.steps() {
        let layers: Vec<String> = step.layers.iter().map(|l| format!("{} {}", l.layer.name(), l.verdict.name())).collect();
        println!("  line {}: {} ({})", step.line, step.status.name(), layers.join(", "));
    }
    assert_eq!(claim.status, Status::Verified);

    // An identity without a proof, at random rational points only.
    match identity("let beta: scalar\nassume 0 < beta < 1", "(1 - beta^3)/(1 - beta)", "1 + beta + beta^2").check() {
        Ok(layer) => println!("geometric sum: holds {}", layer.detail),
        Err(e) => println!("geometric sum: {e}"),
    }
    if let Err(e) = identity("let a, b: scalar", "(a + b)^2", "a^2 + b^2").check() {
        println!("(a + b)^2 = a^2 + b^2: {e}");
    }
}
