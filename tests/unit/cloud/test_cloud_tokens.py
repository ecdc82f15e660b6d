import stat
import time
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from cloud.config import PACKAGED_SEED
from cloud.seed import load_seed
from cloud.tokens import (
    Signer,
    SigningKeyError,
    TokenError,
    Verifier,
    access_claims,
    load_or_create_key,
    verify,
)

ISSUER = "http://cloud.test"


@pytest.fixture(scope="module")
def signer(tmp_path_factory: pytest.TempPathFactory) -> Signer:
    return Signer(load_or_create_key(tmp_path_factory.mktemp("key") / "key.pem"))


@pytest.fixture(scope="module")
def claims() -> dict[str, Any]:
    seed = load_seed(PACKAGED_SEED)
    user = seed.users_with_email("admin@acme.example")[0]
    account = seed.account(user.account_id)
    assert account
    return access_claims(
        user, account, issuer=ISSUER, sid="s-1", issued_at=int(time.time()), ttl=60
    )


def test_the_key_is_made_once_and_kept_private(tmp_path: Path) -> None:
    path = tmp_path / "state" / "signing-key.pem"

    first = load_or_create_key(path)
    again = load_or_create_key(path)

    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert first.private_numbers() == again.private_numbers()
    assert list(path.parent.iterdir()) == [path]


def test_a_key_readable_by_others_is_tightened(tmp_path: Path) -> None:
    path = tmp_path / "signing-key.pem"
    load_or_create_key(path)
    path.chmod(0o644)

    load_or_create_key(path)

    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_bad_key_file_stops_with_its_name(tmp_path: Path) -> None:
    path = tmp_path / "signing-key.pem"
    path.write_text("not a key")

    with pytest.raises(SigningKeyError, match=r"signing-key\.pem"):
        load_or_create_key(path)

    other = ec.generate_private_key(ec.SECP384R1())
    path.write_bytes(
        other.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )

    with pytest.raises(SigningKeyError, match="P-256"):
        load_or_create_key(path)


def test_claims(claims: dict[str, Any]) -> None:
    assert claims["iss"] == ISSUER
    assert claims["sub"] == claims["userId"] == "f79535ac-6e7e-4b8d-a297-b5e1085e660a"
    assert claims["accountId"] == "63d797da-b7b3-4883-9d49-e830bb7d7be6"
    assert claims["accountNumber"] == "100001"
    assert claims["accountName"] == "Acme Dental"
    assert claims["accountType"] == "CUSTOMER"
    assert claims["partnerId"] == "84e964a7-485b-49b2-99d8-5fc04596509f"
    assert claims["role"] == "ACCOUNT_ADMIN"
    assert claims["region"] == "eu"
    assert claims["exp"] == claims["iat"] + 60


def test_issue_and_verify(signer: Signer, claims: dict[str, Any]) -> None:
    token = signer.issue(claims)

    assert jwt.get_unverified_header(token) == {
        "alg": "ES256",
        "kid": signer.kid,
        "typ": "JWT",
    }
    assert verify(token, signer.jwks(), ISSUER) == claims


def test_jwks_holds_only_the_public_key(signer: Signer) -> None:
    (key,) = signer.jwks()["keys"]

    assert (key["kty"], key["crv"], key["alg"]) == ("EC", "P-256", "ES256")
    assert "d" not in key


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"exp": int(time.time()) - 5}, "expired"),
        ({"iss": "http://elsewhere.test"}, "issuer"),
        ({"sid": None}, "sid"),
        ({"accountId": 7}, "accountId"),
    ],
)
def test_verify_refuses(
    signer: Signer, claims: dict[str, Any], change: dict[str, Any], problem: str
) -> None:
    changed = {k: v for k, v in {**claims, **change}.items() if v is not None}

    with pytest.raises(TokenError, match=problem):
        verify(signer.issue(changed), signer.jwks(), ISSUER)


def test_verify_refuses_other_keys_and_tampering(
    tmp_path: Path, signer: Signer, claims: dict[str, Any]
) -> None:
    stranger = Signer(load_or_create_key(tmp_path / "other.pem"))
    verifier = Verifier(signer.jwks(), ISSUER)

    with pytest.raises(TokenError, match="unknown key"):
        verifier.verify(stranger.issue(claims))

    header, _, signature = signer.issue(claims).split(".")
    forged = stranger.issue({**claims, "role": "USER"}).split(".")[1]

    with pytest.raises(TokenError):
        verifier.verify(f"{header}.{forged}.{signature}")

    with pytest.raises(TokenError, match="not a JWT"):
        verifier.verify("garbage")


def test_verify_refuses_another_algorithm(
    signer: Signer, claims: dict[str, Any]
) -> None:
    hmac_token = jwt.encode(
        claims, "k" * 32, algorithm="HS256", headers={"kid": signer.kid}
    )

    with pytest.raises(TokenError):
        verify(hmac_token, signer.jwks(), ISSUER)


def test_a_jwks_without_usable_keys() -> None:
    with pytest.raises(ValueError, match="P-256"):
        Verifier({"keys": [{"kty": "RSA"}]}, ISSUER)
