//! Identifier and weight newtypes shared by placement and topology.

use std::fmt;
use std::num::NonZeroU32;

/// The configured id of a registrar machine (e.g. `fe1.pool1.example.com`); its UTF-8 bytes
/// enter the placement hash.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MachineId(Box<str>);

/// The configured id of a registrar pool (e.g. `pool1`); its UTF-8 bytes enter the pool hash.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PoolId(Box<str>);

macro_rules! string_id {
    ($t:ident) => {
        impl $t {
            /// Wraps an id string.
            pub fn new(id: impl Into<Box<str>>) -> Self {
                Self(id.into())
            }

            /// The id as a string.
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// The id's bytes, as hashed.
            pub fn as_bytes(&self) -> &[u8] {
                self.0.as_bytes()
            }
        }

        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<&str> for $t {
            fn from(id: &str) -> Self {
                Self::new(id)
            }
        }
    };
}

string_id!(MachineId);
string_id!(PoolId);

/// A placement weight: an integer >= 1. A machine of weight `w` is hashed `w` times and keeps
/// its best score, so it gets about `w` times the users of a weight-1 machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Weight(NonZeroU32);

impl Weight {
    /// Weight 1, the default.
    pub const ONE: Weight = Weight(NonZeroU32::MIN);

    /// `None` for 0.
    pub fn new(w: u32) -> Option<Weight> {
        NonZeroU32::new(w).map(Weight)
    }

    /// The weight as an integer (>= 1).
    pub fn get(self) -> u32 {
        self.0.get()
    }
}

impl Default for Weight {
    fn default() -> Self {
        Weight::ONE
    }
}

impl fmt::Display for Weight {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}
