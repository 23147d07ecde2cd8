//! The entry points the fuzz targets (fuzz/, a separate cargo workspace) drive, one per input
//! format a user or a peer can feed hnsim. `tests/fuzz_corpus.rs` replays the committed corpus
//! through the same functions with a plain `cargo test`, so CI needs no fuzz build. Each returns
//! normally on any input: an error is an answer, a panic is a bug.

use hnsim_model::state::{Hns, HostSettings};
use hnsim_model::text::decode_text;

/// Scenario YAML: read as a file would be (BOM, UTF-16), parse, validate, lint the documents.
pub fn scenario_yaml(data: &[u8]) {
    let Ok(text) = decode_text(data.to_vec()) else {
        return;
    };
    if let Ok(l) = crate::scenario::load_str("fuzz.yaml", &text) {
        let _ = crate::scenario::doclint::warnings(&l);
    }
}

/// An HNS JSON document (v1, v2, a v1 reply, an array) through `hnsim hns validate`'s checks;
/// the printed normal form of a document that passes must decode again as the same kind of
/// object. (Not through kind detection: like HNS's own output, the normal form omits empty
/// lists, so a degenerate document may keep no key that tells its kind.)
pub fn hns_json(data: &[u8]) {
    use hnsim_model::document::{self as doc, HnsDocument};
    let Ok(text) = decode_text(data.to_vec()) else {
        return;
    };
    let Ok(value) = hnsim_model::state::lint::parse_json_strict(&text) else {
        return;
    };
    let settings = HostSettings::default();
    let Ok((docs, problems)) = hnsim_model::state::lint::check_value(&value, &settings) else {
        return;
    };
    if problems.iter().any(|p| !p.is_warning()) {
        return;
    }
    for d in &docs {
        let out = doc::encode_document(d);
        let again = match d {
            HnsDocument::Network(_) => doc::decode_network_value(&out).map(drop),
            HnsDocument::Endpoint(_) => doc::decode_endpoint_value(&out).map(drop),
            HnsDocument::Namespace(_) => doc::decode_namespace_value(&out).map(drop),
            HnsDocument::LoadBalancer(_) => doc::decode_load_balancer_value(&out).map(drop),
            HnsDocument::Route(_) => doc::decode_route_value(&out).map(drop),
        };
        if let Err(e) = again {
            panic!(
                "the normal form of a valid {} does not decode: {e}\n{out}",
                d.kind_name()
            );
        }
    }
}

/// Adapter protocol lines: the request, reply and hello parsers, then the whole input served by
/// the model (each request line a call on one host).
pub fn adapter_lines(data: &[u8]) {
    use hnsim_model::adapter::protocol;
    let text = String::from_utf8_lossy(data);
    for line in text.lines().take(64) {
        let _ = protocol::decode_request(line);
        let _ = protocol::decode_reply(line);
        let _ = protocol::parse_hello(line);
        let round = protocol::unescape_text(&protocol::escape_text(line));
        assert_eq!(round, line, "escape/unescape must round-trip");
    }
    let mut backend = Hns::new(HostSettings::default(), 0);
    let _ = hnsim_model::adapter::serve(std::io::BufReader::new(data), std::io::sink(), &mut backend);
}

/// Frame bytes: the packet decoder (with and without extra VXLAN ports) and the ICMP quote
/// reader.
pub fn packet(data: &[u8]) {
    let _ = crate::wire::decode(data);
    let _ = crate::wire::decode_with_vxlan_ports(data, &[4789, 8472]);
    let _ = crate::wire::decode_icmp_quote(data);
}
