//! The scenario format, parser, runner and reports (owned by the scenario work).
