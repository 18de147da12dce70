//! The kinds of sensitive data that are recognised, and a small set of them written as a sorted
//! list of names.

use std::{borrow::Cow, fmt, ops::BitOrAssign};

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Deserializer, Serialize, Serializer, ser::SerializeSeq};

/// One kind of sensitive value. Vendor keys get their own class so a finding says whose
/// credential leaked; `api_key` is the generic one (a key-named field with a random value).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
#[repr(u8)]
pub enum SensitiveClass {
    Email,
    Phone,
    CreditCard,
    Iban,
    Ssn,
    Jwt,
    AwsAccessKey,
    GithubToken,
    SlackToken,
    StripeKey,
    GoogleApiKey,
    OpenaiApiKey,
    AnthropicApiKey,
    ApiKey,
    PrivateKey,
    Password,
}

impl SensitiveClass {
    pub const ALL: [SensitiveClass; 16] = [
        SensitiveClass::Email,
        SensitiveClass::Phone,
        SensitiveClass::CreditCard,
        SensitiveClass::Iban,
        SensitiveClass::Ssn,
        SensitiveClass::Jwt,
        SensitiveClass::AwsAccessKey,
        SensitiveClass::GithubToken,
        SensitiveClass::SlackToken,
        SensitiveClass::StripeKey,
        SensitiveClass::GoogleApiKey,
        SensitiveClass::OpenaiApiKey,
        SensitiveClass::AnthropicApiKey,
        SensitiveClass::ApiKey,
        SensitiveClass::PrivateKey,
        SensitiveClass::Password,
    ];

    /// The name written in JSON (as serde writes it).
    pub const fn name(self) -> &'static str {
        match self {
            SensitiveClass::Email => "email",
            SensitiveClass::Phone => "phone",
            SensitiveClass::CreditCard => "credit_card",
            SensitiveClass::Iban => "iban",
            SensitiveClass::Ssn => "ssn",
            SensitiveClass::Jwt => "jwt",
            SensitiveClass::AwsAccessKey => "aws_access_key",
            SensitiveClass::GithubToken => "github_token",
            SensitiveClass::SlackToken => "slack_token",
            SensitiveClass::StripeKey => "stripe_key",
            SensitiveClass::GoogleApiKey => "google_api_key",
            SensitiveClass::OpenaiApiKey => "openai_api_key",
            SensitiveClass::AnthropicApiKey => "anthropic_api_key",
            SensitiveClass::ApiKey => "api_key",
            SensitiveClass::PrivateKey => "private_key",
            SensitiveClass::Password => "password",
        }
    }

    /// Whether this is a secret that grants access (as opposed to personal or payment data).
    pub const fn is_credential(self) -> bool {
        matches!(
            self,
            SensitiveClass::Jwt
                | SensitiveClass::AwsAccessKey
                | SensitiveClass::GithubToken
                | SensitiveClass::SlackToken
                | SensitiveClass::StripeKey
                | SensitiveClass::GoogleApiKey
                | SensitiveClass::OpenaiApiKey
                | SensitiveClass::AnthropicApiKey
                | SensitiveClass::ApiKey
                | SensitiveClass::PrivateKey
                | SensitiveClass::Password
        )
    }
}

/// A set of classes: one bit each, so it is `Copy` and costs nothing to union on the hot path.
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct ClassSet(u32);

impl ClassSet {
    pub const fn empty() -> Self {
        ClassSet(0)
    }

    pub fn insert(&mut self, class: SensitiveClass) {
        self.0 |= 1 << class as u8;
    }

    pub fn remove(&mut self, class: SensitiveClass) {
        self.0 &= !(1 << class as u8);
    }

    pub fn with(mut self, class: SensitiveClass) -> Self {
        self.insert(class);
        self
    }

    pub const fn contains(self, class: SensitiveClass) -> bool {
        self.0 & (1 << class as u8) != 0
    }

    pub const fn union(self, other: ClassSet) -> ClassSet {
        ClassSet(self.0 | other.0)
    }

    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub const fn len(self) -> usize {
        self.0.count_ones() as usize
    }

    pub fn iter(self) -> impl Iterator<Item = SensitiveClass> {
        SensitiveClass::ALL
            .into_iter()
            .filter(move |c| self.contains(*c))
    }

    pub fn has_credential(self) -> bool {
        self.iter().any(SensitiveClass::is_credential)
    }

    /// Names sorted alphabetically: the form written in JSON and in `x-sensitive`.
    pub fn names(self) -> Vec<&'static str> {
        let mut names: Vec<&str> = self.iter().map(SensitiveClass::name).collect();
        names.sort_unstable();
        names
    }
}

impl BitOrAssign for ClassSet {
    fn bitor_assign(&mut self, other: ClassSet) {
        self.0 |= other.0;
    }
}

impl FromIterator<SensitiveClass> for ClassSet {
    fn from_iter<I: IntoIterator<Item = SensitiveClass>>(iter: I) -> Self {
        let mut set = ClassSet::empty();
        for class in iter {
            set.insert(class);
        }
        set
    }
}

impl fmt::Debug for ClassSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.names()).finish()
    }
}

impl Serialize for ClassSet {
    /// Names sorted alphabetically, so output is stable whatever the enum order.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let names = self.names();
        let mut seq = s.serialize_seq(Some(names.len()))?;
        for n in names {
            seq.serialize_element(n)?;
        }
        seq.end()
    }
}

impl<'de> Deserialize<'de> for ClassSet {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Vec::<SensitiveClass>::deserialize(d)?.into_iter().collect())
    }
}

/// Written by hand to match the hand-written `Serialize`: names come from `SensitiveClass::ALL`,
/// so a new class reaches the schema without being typed twice.
impl JsonSchema for ClassSet {
    fn schema_name() -> Cow<'static, str> {
        "SensitiveClasses".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        let names = ClassSet(u32::MAX).names();
        json_schema!({
            "description": "Kinds of sensitive data seen: class names, sorted, each at most once.",
            "type": "array",
            "uniqueItems": true,
            "items": { "type": "string", "enum": names },
        })
    }
}
