//! VFP: layers, groups, rules, header transpositions, unified flow table (owned by the dataplane work).
