use super::*;
use SensitiveClass::*;

fn set(classes: &[SensitiveClass]) -> ClassSet {
    classes.iter().copied().collect()
}

const JWT: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c";

#[test]
fn names_match_serde() {
    for class in SensitiveClass::ALL {
        let json = serde_json::to_string(&class).unwrap();
        assert_eq!(json, format!("\"{}\"", class.name()));
    }
}

#[test]
fn class_set_serializes_sorted_and_round_trips() {
    let s = set(&[Password, Email, CreditCard]);
    let json = serde_json::to_string(&s).unwrap();
    assert_eq!(json, r#"["credit_card","email","password"]"#);
    assert_eq!(serde_json::from_str::<ClassSet>(&json).unwrap(), s);
    assert!(serde_json::from_str::<ClassSet>(r#"["nope"]"#).is_err());
    assert_eq!(format!("{s:?}"), r#"{"credit_card", "email", "password"}"#);
    assert_eq!(s.len(), 3);
}

#[test]
fn cards_need_luhn_and_a_network() {
    for card in [
        "4111111111111111",
        "5555555555554444",
        "378282246310005",
        "6011111111111117",
        "3530111333300000",
        "30569309025904",
        "2223003122003222",
        "4111 1111 1111 1111",
        "4111-1111-1111-1111",
        "3782 822463 10005",
    ] {
        assert_eq!(scan_text(card), set(&[CreditCard]), "{card}");
    }
    // Luhn fails.
    assert_eq!(scan_text("4111111111111112"), ClassSet::empty());
    // Luhn passes but no network starts with 1 (millisecond timestamps, many ids).
    assert_eq!(scan_text("1234567812345670"), ClassSet::empty());
    // Mixed or odd grouping is not how cards are written.
    assert_eq!(scan_text("4111 1111-1111 1111"), ClassSet::empty());
    assert_eq!(scan_text("41 11 11 11 11 11 11 11"), ClassSet::empty());
    // Inside identifiers.
    assert_eq!(scan_text("ord-4111111111111111"), ClassSet::empty());
    assert_eq!(scan_text("ref4111111111111111"), ClassSet::empty());
}

#[test]
fn cards_in_text() {
    assert_eq!(
        scan_text("paid with 4111 1111 1111 1111 exp 12/27."),
        set(&[CreditCard])
    );
    // A card followed by more digits in the same run is still found.
    assert_eq!(
        scan_text("card 4111 1111 1111 1111 2027"),
        set(&[CreditCard])
    );
    assert_eq!(scan_text("number: 5555555555554444."), set(&[CreditCard]));
}

#[test]
fn card_rule_depends_on_field_name_and_type() {
    let luhn_visa = "4111111111111111";
    // A Luhn-valid number in a string field: a card unless the name says it is an id.
    assert_eq!(classify_field(Some("value"), luhn_visa), set(&[CreditCard]));
    assert_eq!(classify_field(None, luhn_visa), set(&[CreditCard]));
    assert_eq!(
        classify_field(Some("order_id"), luhn_visa),
        ClassSet::empty()
    );
    assert_eq!(
        classify_field(Some("orderId"), luhn_visa),
        ClassSet::empty()
    );
    assert_eq!(
        classify_field(Some("tracking_number"), luhn_visa),
        ClassSet::empty()
    );
    // ... but a card-like name wins over "id"/"number".
    assert_eq!(
        classify_field(Some("card_number"), luhn_visa),
        set(&[CreditCard])
    );
    assert_eq!(
        classify_field(Some("ccNumber"), luhn_visa),
        set(&[CreditCard])
    );
    assert_eq!(classify_field(Some("pan"), luhn_visa), set(&[CreditCard]));
    // A bare "number" says nothing (`card.number`); "order_no" is an id.
    assert_eq!(
        classify_field(Some("number"), luhn_visa),
        set(&[CreditCard])
    );
    assert_eq!(
        classify_field(Some("order_no"), luhn_visa),
        ClassSet::empty()
    );
    assert_eq!(
        classify_field(Some("card[number]"), luhn_visa),
        set(&[CreditCard])
    );
    // JSON numbers: only under a card-like name.
    assert_eq!(
        classify_number(Some("amount"), luhn_visa),
        ClassSet::empty()
    );
    assert_eq!(
        classify_number(Some("order_id"), luhn_visa),
        ClassSet::empty()
    );
    assert_eq!(classify_number(None, luhn_visa), ClassSet::empty());
    assert_eq!(classify_number(Some("card"), luhn_visa), set(&[CreditCard]));
    assert_eq!(
        classify_number(Some("card"), "4111111111111112"),
        ClassSet::empty()
    );
    // "company" contains "pan" but is not a card name.
    assert!(!number_may_be_sensitive("company"));
    assert!(number_may_be_sensitive("creditCardNumber"));
}

#[test]
fn iban_needs_mod97_and_country_length() {
    for iban in [
        "DE89370400440532013000",
        "GB82WEST12345698765432",
        "FR1420041010050500013M02606",
        "DE89 3704 0044 0532 0130 00",
    ] {
        assert_eq!(scan_text(iban), set(&[Iban]), "{iban}");
    }
    assert_eq!(scan_text("iban: NL91ABNA0417164300, thanks"), set(&[Iban]));
    // Wrong check digits.
    assert_eq!(scan_text("DE88370400440532013000"), ClassSet::empty());
    // Right checksum shape but one digit short for Germany.
    assert_eq!(scan_text("DE8937040044053201300"), ClassSet::empty());
    // Unknown country.
    assert_eq!(scan_text("ZZ89370400440532013000"), ClassSet::empty());
    // Part of a longer word.
    assert_eq!(scan_text("XDE89370400440532013000"), ClassSet::empty());
}

#[test]
fn ssn_formatted_and_by_name() {
    assert_eq!(scan_text("536-90-4399"), set(&[Ssn]));
    assert_eq!(scan_text("ssn 536-90-4399."), set(&[Ssn]));
    for bad in [
        "000-12-3456",
        "666-12-3456",
        "912-34-5678",
        "123-00-4567",
        "123-45-0000",
        "536-90-4399-12",
    ] {
        assert_eq!(scan_text(bad), ClassSet::empty(), "{bad}");
    }
    // Nine bare digits are an SSN only under an SSN name.
    assert_eq!(scan_text("536904399"), ClassSet::empty());
    assert_eq!(
        classify_field(Some("zip_plus4"), "536904399"),
        ClassSet::empty()
    );
    assert_eq!(classify_field(Some("ssn"), "536904399"), set(&[Ssn]));
    assert_eq!(
        classify_field(Some("socialSecurityNumber"), "536904399"),
        set(&[Ssn])
    );
    assert_eq!(classify_field(Some("ssn"), "000904399"), ClassSet::empty());
    assert_eq!(classify_number(Some("user_ssn"), "536904399"), set(&[Ssn]));
}

#[test]
fn phones_need_a_plausible_shape() {
    for phone in [
        "+14155552671",
        "+1 415 555 2671",
        "+44 20 7946 0958",
        "+33 6 12 34 56 78",
        "+1 (415) 555-2671",
        "(415) 555-2671",
        "415-555-2671",
        "415.555.2671",
        "1-415-555-2671",
        "020 7946 0958",
        "06 12 34 56 78",
    ] {
        assert_eq!(scan_text(phone), set(&[Phone]), "{phone}");
    }
    for not_phone in [
        "4155552671",
        "1700000000",
        "1700000000123",
        "+123",
        "+0123456789",
        "2024-01-15",
        "15.01.2024",
        "2024-01-15 10:30:00",
        "192.168.100.200",
        "3.14159265358",
        "0.123456789",
        "1234 5678 9012",
        "550e8400-e29b-41d4-a716-446655440000",
        "2024-01-15T10:30:00Z",
        "v1.2.3",
    ] {
        assert_eq!(scan_text(not_phone), ClassSet::empty(), "{not_phone}");
    }
    assert_eq!(
        scan_text("call me on +44 20 7946 0958 tomorrow"),
        set(&[Phone])
    );
    // Plain digits: a phone only under a phone-like name, whether string or number.
    assert_eq!(
        classify_field(Some("count"), "4155552671"),
        ClassSet::empty()
    );
    assert_eq!(classify_field(Some("mobile"), "4155552671"), set(&[Phone]));
    assert_eq!(
        classify_field(Some("phoneNumber"), "4155552671"),
        set(&[Phone])
    );
    assert_eq!(
        classify_number(Some("count"), "4155552671"),
        ClassSet::empty()
    );
    assert_eq!(classify_number(Some("tel"), "4155552671"), set(&[Phone]));
    assert_eq!(
        classify_number(Some("created_at"), "1700000000"),
        ClassSet::empty()
    );
}

#[test]
fn emails() {
    assert_eq!(scan_text("jane.doe+news@example.co.uk"), set(&[Email]));
    assert_eq!(
        scan_text("Contact: <ops@example.com>, or mailto:help@example.org."),
        set(&[Email])
    );
    for bad in [
        "jane@localhost",
        "@example.com",
        "jane@@example.com",
        "a.@example.com",
        "x@1.2",
    ] {
        assert_eq!(scan_text(bad), ClassSet::empty(), "{bad}");
    }
}

#[test]
fn jwt_needs_a_header_with_alg() {
    assert_eq!(scan_text(JWT), set(&[Jwt]));
    assert_eq!(scan_text(&format!("Bearer {JWT}")), set(&[Jwt]));
    // {"typ":"JWT"}: no alg.
    let no_alg = "eyJ0eXAiOiJKV1QifQ.eyJzdWIiOiIxIn0.c2ln";
    assert_eq!(scan_text(no_alg), ClassSet::empty());
    // Two parts only.
    assert_eq!(
        scan_text("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0"),
        ClassSet::empty()
    );
    // Header is not base64 JSON.
    assert_eq!(
        scan_text("eyJhbGciOiJIUz.eyJzdWIiOiIxIn0.c2ln"),
        ClassSet::empty()
    );
}

#[test]
fn vendor_keys() {
    let cases = [
        ("AKIAIOSFODNN7EXAMPLE", AwsAccessKey),
        ("ASIAY34FZKBOKMUTVV7A", AwsAccessKey),
        ("ghp_1a2B3c4D5e6F7g8H9i0J1k2L3m4N5o6P7q8R", GithubToken),
        (
            "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456",
            GithubToken,
        ),
        (
            "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx",
            SlackToken,
        ),
        ("sk_live_4eC39HqLyjWDarjtT1zdp7dc", StripeKey),
        ("rk_live_51H8x2eKl9QwErTy7UiOp3As", StripeKey),
        ("AIzaSyD-1234567890abcdefghijklmnopqrstu", GoogleApiKey),
        ("sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z", OpenaiApiKey),
        (
            "sk-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4zAb3dEf6hIj9kLm2n",
            OpenaiApiKey,
        ),
        (
            "sk-ant-api03-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z-AA",
            AnthropicApiKey,
        ),
    ];
    for (key, class) in cases {
        assert_eq!(scan_text(key), set(&[class]), "{key}");
        assert_eq!(scan_text(&format!("key=\"{key}\"")), set(&[class]), "{key}");
    }
    for not_key in [
        "AKIAIOSFODNN7EXAMPL",
        "akiaiosfodnn7example",
        "ghp_short",
        "sk-learn-tutorial-examples-for-beginners",
        "sk_test_4eC39HqLyjWDarjtT1zdp7dc",
        "xoxq-123456789012-1234567890123",
        "550e8400-e29b-41d4-a716-446655440000",
    ] {
        assert_eq!(scan_text(not_key), ClassSet::empty(), "{not_key}");
    }
}

#[test]
fn generic_keys_need_a_key_name_and_a_random_value() {
    let random = "9f86d081884c7d659a2feaa0c55ad015";
    assert_eq!(classify_field(Some("api_key"), random), set(&[ApiKey]));
    assert_eq!(classify_field(Some("X-Api-Key"), random), set(&[ApiKey]));
    assert_eq!(
        classify_field(Some("accessToken"), "Zm9vYmFyYmF6cXV4MTIzNDU2"),
        set(&[ApiKey])
    );
    assert_eq!(
        classify_field(Some("authorization"), "Bearer Zm9vYmFyYmF6cXV4MTIzNDU2"),
        set(&[ApiKey])
    );
    // Not random, not a key name, a UUID, a paging cursor.
    assert_eq!(
        classify_field(Some("api_key"), "changeme"),
        ClassSet::empty()
    );
    assert_eq!(
        classify_field(Some("api_key"), "my-api-key-for-testing"),
        ClassSet::empty()
    );
    assert_eq!(classify_field(Some("checksum"), random), ClassSet::empty());
    assert_eq!(
        classify_field(Some("api_key"), "550e8400-e29b-41d4-a716-446655440000"),
        ClassSet::empty()
    );
    assert_eq!(
        classify_field(Some("next_page_token"), random),
        ClassSet::empty()
    );
    assert_eq!(
        classify_field(Some("max_tokens"), "4096"),
        ClassSet::empty()
    );
    // A vendor key under a key name is reported once, as the vendor's.
    assert_eq!(
        classify_field(Some("api_key"), "sk_live_4eC39HqLyjWDarjtT1zdp7dc"),
        set(&[StripeKey])
    );
    assert_eq!(classify_field(Some("token"), JWT), set(&[Jwt]));
}

#[test]
fn passwords_by_name() {
    assert_eq!(
        classify_field(Some("password"), "hunter2"),
        set(&[Password])
    );
    assert_eq!(classify_field(Some("newPassword"), "x"), set(&[Password]));
    assert_eq!(classify_field(Some("user_pwd"), "x"), set(&[Password]));
    assert_eq!(classify_field(Some("secret"), "letmein"), set(&[Password]));
    assert_eq!(classify_field(Some("password"), ""), ClassSet::empty());
    assert_eq!(
        classify_field(Some("password_hint"), "  "),
        ClassSet::empty()
    );
    assert_eq!(
        classify_field(Some("username"), "hunter2"),
        ClassSet::empty()
    );
    // A random client secret is a key rather than a password.
    assert_eq!(
        classify_field(Some("client_secret"), "9f86d081884c7d659a2feaa0c55ad015"),
        set(&[ApiKey])
    );
    assert_eq!(
        classify_number(Some("pin_password"), "1234"),
        set(&[Password])
    );
}

#[test]
fn private_keys() {
    for label in ["", "RSA ", "EC ", "OPENSSH ", "ENCRYPTED "] {
        let pem = format!(
            "-----BEGIN {label}PRIVATE KEY-----\nMIIEvQIBADANBg...\n-----END {label}PRIVATE KEY-----"
        );
        assert_eq!(scan_text(&pem), set(&[PrivateKey]), "{label}");
    }
    assert_eq!(
        scan_text("-----BEGIN CERTIFICATE-----\nMIIB...\n-----END CERTIFICATE-----"),
        ClassSet::empty()
    );
    assert_eq!(scan_text("-----BEGIN PUBLIC KEY-----"), ClassSet::empty());
}

#[test]
fn timestamps_and_uuids_are_nothing() {
    for value in [
        "2024-01-15T10:30:00.123Z",
        "2024-01-15T10:30:00+02:00",
        "1705314600",
        "1705314600123",
        "550e8400-e29b-41d4-a716-446655440000",
        "6ba7b810-9dad-11d1-80b4-00c04fd430c8",
    ] {
        assert_eq!(
            classify_field(Some("value"), value),
            ClassSet::empty(),
            "{value}"
        );
        assert_eq!(classify_field(None, value), ClassSet::empty(), "{value}");
    }
}

#[test]
fn many_classes_in_one_text() {
    let text = format!(
        "from jane@example.com: card 4111111111111111, iban DE89370400440532013000, \
         phone +1 415 555 2671, token {JWT}, aws AKIAIOSFODNN7EXAMPLE"
    );
    assert_eq!(
        scan_text(&text),
        set(&[Email, CreditCard, Iban, Phone, Jwt, AwsAccessKey])
    );
}

#[test]
fn scanning_is_bounded() {
    // A secret past the scan limit is not looked at; multi-byte text cut in the middle of a
    // character does not panic.
    let mut text = "é".repeat(MAX_SCAN / 2 + 1);
    text.push_str(" jane@example.com");
    assert_eq!(scan_text(&text), ClassSet::empty());
    let digits = "1 ".repeat(100_000);
    assert_eq!(scan_text(&digits), ClassSet::empty());
}
