//! switch (owned by the dataplane work).
