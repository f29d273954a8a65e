pub mod engine;
mod rewrite;
