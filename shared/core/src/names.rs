//! Names of the domain's enums, as stored, logged and typed on the command line. Each enum
//! derives its names with strum (`IntoStaticStr`, `VariantArray`, `Display`); [`named!`] adds
//! `as_str` and a `FromStr` whose error lists the choices.

/// A name that is none of an enum's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {kind} '{value}' (expected one of: {expected})")]
pub struct ParseEnumError {
    pub kind: &'static str,
    pub value: String,
    pub expected: String,
}

/// The variant named `text` (case and surrounding blanks ignored).
pub fn parse_name<T>(kind: &'static str, text: &str) -> Result<T, ParseEnumError>
where
    T: strum::VariantArray + Copy + Into<&'static str>,
{
    let wanted = text.trim();
    T::VARIANTS
        .iter()
        .copied()
        .find(|v| Into::<&'static str>::into(*v).eq_ignore_ascii_case(wanted))
        .ok_or_else(|| ParseEnumError {
            kind,
            value: text.to_string(),
            expected: T::VARIANTS
                .iter()
                .map(|v| Into::<&'static str>::into(*v))
                .collect::<Vec<_>>()
                .join(", "),
        })
}

/// `as_str` and `FromStr` for an enum deriving `strum::IntoStaticStr` and `strum::VariantArray`.
#[macro_export]
macro_rules! named {
    ($ty:ident, $kind:literal) => {
        impl $ty {
            pub fn as_str(self) -> &'static str {
                self.into()
            }
        }

        impl ::std::str::FromStr for $ty {
            type Err = $crate::names::ParseEnumError;
            fn from_str(text: &str) -> Result<Self, Self::Err> {
                $crate::names::parse_name($kind, text)
            }
        }
    };
}
