from localcloud import provider_endpoints, provider_overrides, provider_settings


def test_every_endpoint_is_the_emulator() -> None:
    # Which services: tests/unit/test_stack.py, from what the stacks synthesize.
    assert set(provider_endpoints("http://127.0.0.1:4566").values()) == {"http://127.0.0.1:4566"}


def test_overrides_for_the_stack_are_the_same_options_as_the_terraform_settings() -> None:
    # One copy: the stack's local target (tap.py -> TapStack) and the probe's provider.tf.json.
    overrides = provider_overrides("http://e")
    settings = provider_settings("http://e", region="eu-west-1")
    assert settings.pop("region") == "eu-west-1"
    assert settings.pop("endpoints") == [dict(overrides.endpoints)]
    assert {name: getattr(overrides, name) for name in settings} == settings
    assert set(vars(overrides)) == {*settings, "endpoints"}


def test_provider_settings_skip_every_real_aws_lookup_and_fail_fast() -> None:
    settings = provider_settings("http://e")
    assert settings["skip_credentials_validation"] is True
    assert settings["skip_requesting_account_id"] is True
    assert settings["skip_metadata_api_check"] is True
    assert settings["s3_use_path_style"] is True
    assert settings["max_retries"] <= 5
    assert settings["endpoints"] == [provider_endpoints("http://e")]
