from localcloud import cdktf_provider_endpoints, provider_endpoints, provider_settings

STACK_SERVICES = {
    "apigateway",
    "cloudwatch",
    "dynamodb",
    "iam",
    "kms",
    "lambda",
    "logs",
    "s3",
    "sfn",
    "sns",
    "sqs",
    "sts",
    "wafv2",
}


def test_every_service_of_the_stack_points_at_the_emulator() -> None:
    endpoints = provider_endpoints("http://127.0.0.1:4566")
    assert set(endpoints) == STACK_SERVICES
    assert set(endpoints.values()) == {"http://127.0.0.1:4566"}


def test_cdktf_names_use_the_python_keyword_escape() -> None:
    endpoints = cdktf_provider_endpoints("http://e")
    assert "lambda_" in endpoints
    assert "lambda" not in endpoints
    assert len(endpoints) == len(STACK_SERVICES)


def test_provider_settings_skip_every_real_aws_lookup_and_fail_fast() -> None:
    settings = provider_settings("http://e")
    assert settings["skip_credentials_validation"] is True
    assert settings["skip_requesting_account_id"] is True
    assert settings["skip_metadata_api_check"] is True
    assert settings["s3_use_path_style"] is True
    assert settings["max_retries"] <= 3
    assert settings["endpoints"] == [provider_endpoints("http://e")]
