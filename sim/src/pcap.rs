//! pcap output (owned by the wire work).
