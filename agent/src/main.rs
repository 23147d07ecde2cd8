fn main() {
    eprintln!("hnsim-agent needs Windows");
    std::process::exit(2);
}
