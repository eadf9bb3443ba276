//! `mac` against RFC 4231's HMAC test vectors and `digest` against FIPS 180-2's examples
//! (and the empty message), through the port.

use vault_core::signing::{HashAlgorithm, RequestSigner as _};
use vault_request_signer::RingRequestSigner;

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// An RFC 4231 test case: its number, key, data, HMAC-SHA-256 and HMAC-SHA-512.
struct Vector {
    case: u8,
    key: &'static [u8],
    data: &'static [u8],
    sha256: &'static str,
    sha512: &'static str,
}

/// RFC 4231 section 4.
const RFC_4231: &[Vector] = &[
    Vector {
        case: 1,
        key: &[0x0b; 20],
        data: b"Hi There",
        sha256: "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
        sha512: "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cde\
                 daa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854",
    },
    Vector {
        case: 2,
        key: b"Jefe",
        data: b"what do ya want for nothing?",
        sha256: "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
        sha512: "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554\
                 9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737",
    },
    Vector {
        // A key longer than the hash's block (128 bytes for SHA-512): hashed first.
        case: 6,
        key: &[0xaa; 131],
        data: b"Test Using Larger Than Block-Size Key - Hash Key First",
        sha256: "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
        sha512: "80b24263c7c1a3ebb71493c1dd7be8b49b46d1f41b4aeec1121b013783f8f352\
                 6b56d037e05f2598bd0fd2215d6a1e5295e64f73f63f0aec8b915a985d786598",
    },
];

#[test]
fn mac_matches_rfc_4231() {
    for &Vector {
        case,
        key,
        data,
        sha256,
        sha512,
    } in RFC_4231
    {
        let mac = RingRequestSigner
            .mac(HashAlgorithm::Sha256, key, data)
            .expect("HMAC-SHA-256");
        assert_eq!(hex(&mac), sha256, "RFC 4231 test case {case}, HMAC-SHA-256");
        let mac = RingRequestSigner
            .mac(HashAlgorithm::Sha512, key, data)
            .expect("HMAC-SHA-512");
        assert_eq!(hex(&mac), sha512, "RFC 4231 test case {case}, HMAC-SHA-512");
    }
}

/// (message, SHA-256, SHA-512).
const DIGESTS: &[(&[u8], &str, &str)] = &[
    (
        b"",
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce\
                 47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e",
    ),
    (
        b"abc",
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
        "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a\
                 2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
    ),
    (
        // Two blocks for SHA-256.
        b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
        "204a8fc6dda82f0a0ced7beb8e08a41657c16ef468b228a8279be331a703c335\
                 96fd15c13b1b07f9aa1d3bea57789ca031ad85c7a71dd70354ec631238ca3445",
    ),
];

#[test]
fn digest_matches_known_values() {
    for &(message, sha256, sha512) in DIGESTS {
        let shown = String::from_utf8_lossy(message);
        let digest = RingRequestSigner
            .digest(HashAlgorithm::Sha256, message)
            .expect("SHA-256");
        assert_eq!(hex(&digest), sha256, "SHA-256 of {shown:?}");
        let digest = RingRequestSigner
            .digest(HashAlgorithm::Sha512, message)
            .expect("SHA-512");
        assert_eq!(hex(&digest), sha512, "SHA-512 of {shown:?}");
    }
}
