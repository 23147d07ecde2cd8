//! Serving the line protocol from any backend (`hnsim serve --stdio`).

use super::protocol;
use crate::backend::HnsBackend;
use std::io::{self, BufRead, Write};

/// Write the hello line, then answer one reply line per request line until the reader ends.
/// Malformed requests get an `ERR` reply and the loop goes on. Returns the number of requests.
pub fn serve(reader: impl BufRead, mut writer: impl Write, backend: &mut dyn HnsBackend) -> io::Result<u64> {
    writeln!(writer, "{}", protocol::hello_line(&backend.describe()))?;
    writer.flush()?;
    let mut served = 0;
    for line in reader.lines() {
        let line = line?;
        let line = line.strip_suffix('\r').unwrap_or(&line);
        let reply = protocol::decode_request(line).and_then(|call| backend.call(&call));
        writeln!(writer, "{}", protocol::encode_reply(&reply))?;
        writer.flush()?;
        served += 1;
    }
    Ok(served)
}
