//! Warnings about valid scenarios whose expectations say less than they seem to.
//!
//! A traffic step's `expect:` without `disposition:` passes whatever way the packet ends: a
//! `path-excludes: [LoadBalance]` is met as well by a packet that is delivered as by one that
//! loops or is dropped for an unrelated reason. (A step with no `expect:` at all means
//! `disposition: Delivered`.) `hnsim check` and `hnsim run` print these warnings; `--strict` makes
//! them errors (docs/scenario-format.md "Warnings").

use super::format::Step;
use super::locate::Seg;
use super::parse::{Loaded, ScenarioError};

/// Every warning of one scenario, in file order.
pub fn warnings(l: &Loaded) -> Vec<ScenarioError> {
    let mut out = Vec::new();
    for (i, step) in l.scenario.steps.iter().enumerate() {
        let (Step::Send(t) | Step::Connect(t) | Step::Udp(t) | Step::Ping(t)) = step else {
            continue;
        };
        let Some(e) = &t.expect else { continue };
        if e.disposition.is_none() {
            let path = [
                Seg::Key("steps".into()),
                Seg::Index(i),
                Seg::Key(step.kind().into()),
                Seg::Key("expect".into()),
            ];
            out.push(l.error_at(
                l.index.nearest(&path),
                "this expectation does not say how the packet ends: add `disposition:` \
                 (`Delivered`, or the drop it must end in, e.g. `NoRoute`)",
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEAD: &str = "name: t\nunderlay:\n  segments:\n    lan: {prefix: 10.0.0.0/24}\nhosts:\n  h: {ip: 10.0.0.11}\nstations:\n  s: {ip: 10.0.0.50}\nsteps:\n";

    fn warn(steps: &str) -> Vec<String> {
        let l = crate::scenario::load_str("t.yaml", &format!("{HEAD}{steps}")).unwrap();
        warnings(&l).iter().map(ToString::to_string).collect()
    }

    #[test]
    fn an_expectation_without_a_disposition_is_flagged_at_its_line() {
        let w = warn(concat!(
            "  - connect: {from: s, to: \"10.0.0.11:80\", expect: {reply: none}}\n",
            "  - ping:\n      from: s\n      to: 10.0.0.11\n      expect:\n        path-excludes: [Encap]\n",
        ));
        assert_eq!(w.len(), 2, "{w:?}");
        assert!(w[0].starts_with("t.yaml:10:"), "{}", w[0]);
        assert!(w[0].contains("`disposition:`"), "{}", w[0]);
        // At the `expect:` key of the block mapping.
        assert!(w[1].starts_with("t.yaml:14:7:"), "{}", w[1]);
    }

    #[test]
    fn a_disposition_or_no_expectation_is_not_flagged() {
        let w = warn(concat!(
            "  - connect: {from: s, to: \"10.0.0.11:80\", expect: {disposition: NoListener}}\n",
            "  - udp: {from: s, to: \"10.0.0.11:53\"}\n",
        ));
        assert!(w.is_empty(), "{w:?}");
    }
}
