//! Black-box tests of the built `kanca` binary: a real `kanca serve` on port 0 in a temporary
//! data directory, driven over HTTP, read back through `kanca history` / `kanca show`.

mod durability;
mod errors;
mod filters;
mod fixtures;
mod form;
mod live;
mod order;
mod redelivery;
mod search;
mod secret_url;
mod shutdown;
mod silence;
mod tunnel;
