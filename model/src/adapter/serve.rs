//! Serving the line protocol from any backend (`hnsim serve --stdio`).

use super::protocol;
use crate::backend::HnsBackend;
use crate::hresult::{HResult, HcnError};
use std::io::{self, BufRead, Write};

/// Write the hello line, then answer one reply line per request line until the reader ends.
/// Malformed requests get an `ERR` reply and the loop goes on. Returns the number of requests.
pub fn serve(reader: impl BufRead, mut writer: impl Write, backend: &mut dyn HnsBackend) -> io::Result<u64> {
    writeln!(writer, "{}", protocol::hello_line(&backend.describe()))?;
    writer.flush()?;
    let mut served = 0;
    // Lines are read as bytes: a request that is not UTF-8 is malformed, answered like any other
    // malformed request, not a reason to stop serving.
    for line in reader.split(b'\n') {
        let mut line = line?;
        if line.last() == Some(&b'\r') {
            line.pop();
        }
        let reply = match std::str::from_utf8(&line) {
            Ok(text) => protocol::decode_request(text).and_then(|call| backend.call(&call)),
            Err(e) => Err(HcnError::new(
                HResult::E_INVALIDARG,
                format!("malformed request line: not UTF-8 ({e})"),
            )),
        };
        writeln!(writer, "{}", protocol::encode_reply(&reply))?;
        writer.flush()?;
        served += 1;
    }
    Ok(served)
}
