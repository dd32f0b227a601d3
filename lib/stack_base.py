"""What every stack of the project shares: the AWS provider (region, default tags, the target's
overrides) and the state backend. ``TapStack`` and ``TapAccount`` (``AccountStack``) build on it."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TypedDict

from cdktf import LocalBackend, S3Backend, TerraformStack
from cdktf_cdktf_provider_aws.provider import AwsProvider, AwsProviderDefaultTags, AwsProviderEndpoints
from constructs import Construct

from lib.settings import DeploymentSettings
from lib.target import ProviderOverrides

# Endpoint url -> provider overrides for the emulator (``localcloud.provider.provider_overrides``).
EmulatorProvider = Callable[[str], ProviderOverrides]

PROJECT_TAG = "payment-platform"
# On every resource of every stack; a stack adds its own (TapStack: the environment's).
PROJECT_TAGS: Mapping[str, str] = {"Project": PROJECT_TAG, "ManagedBy": "cdktf"}


class _ProviderArguments(TypedDict, total=False):
    """The AwsProvider keyword arguments overrides set (typed, so mypy checks the call)."""

    access_key: str
    secret_key: str
    skip_credentials_validation: bool
    skip_requesting_account_id: bool
    skip_metadata_api_check: str
    skip_region_validation: bool
    s3_use_path_style: bool
    max_retries: int
    endpoints: list[AwsProviderEndpoints]


def _provider_arguments(overrides: ProviderOverrides | None) -> _ProviderArguments:
    if overrides is None:
        return {}
    return {
        "access_key": overrides.access_key,
        "secret_key": overrides.secret_key,
        "skip_credentials_validation": overrides.skip_credentials_validation,
        "skip_requesting_account_id": overrides.skip_requesting_account_id,
        # A string in the provider's schema ("true"/"false").
        "skip_metadata_api_check": str(overrides.skip_metadata_api_check).lower(),
        "skip_region_validation": overrides.skip_region_validation,
        "s3_use_path_style": overrides.s3_use_path_style,
        "max_retries": overrides.max_retries,
        # ``lambda`` is a Python keyword: the binding's argument is ``lambda_``.
        "endpoints": [
            AwsProviderEndpoints(
                **{("lambda_" if service == "lambda" else service): url for service, url in overrides.endpoints.items()}
            )
        ],
    }


def target_overrides(
    settings: DeploymentSettings, emulator_provider: EmulatorProvider | None
) -> ProviderOverrides | None:
    """The provider overrides of the settings' target: None for AWS, the emulator's for the emulator."""
    if settings.emulator is None:
        return None
    if emulator_provider is None:
        raise ValueError(f"{settings.stack_name} targets the emulator but no emulator_provider was given")
    return emulator_provider(settings.emulator.endpoint_url)


class PlatformStack(TerraformStack):
    """A stack with the settings' AWS provider and state: local (``terraform.<stack>.tfstate``) or
    the settings' S3 bucket. Each stack says what is its own: its default id, its state key, its
    resources (``_build``) and, where it has any, its own tags."""

    def __init__(
        self,
        scope: Construct,
        stack_id: str | None = None,
        *,
        settings: DeploymentSettings,
        provider_overrides: ProviderOverrides | None = None,
    ) -> None:
        super().__init__(scope, stack_id or self._default_id(settings))
        self._build_provider(settings, provider_overrides)
        self._build_backend(settings)
        self._build(settings)

    @classmethod
    def _default_id(cls, settings: DeploymentSettings) -> str:
        raise NotImplementedError

    def _tags(self, settings: DeploymentSettings) -> Mapping[str, str]:
        """On every resource of the stack (the provider's default tags): the project's, and
        whatever a stack adds of its own (TapStack: the environment's)."""
        return PROJECT_TAGS

    def _state_key(self, settings: DeploymentSettings) -> str:
        """Where the stack's state lives in the settings' S3 bucket."""
        raise NotImplementedError

    def _build(self, settings: DeploymentSettings) -> None:
        raise NotImplementedError

    def _local_state_path(self, settings: DeploymentSettings) -> str:
        """The state file without a state bucket, in the working directory."""
        return f"terraform.{self.node.id}.tfstate"

    def _build_provider(self, settings: DeploymentSettings, overrides: ProviderOverrides | None) -> None:
        self._provider_tags = dict(self._tags(settings))
        self._provider_overrides = overrides
        AwsProvider(
            self,
            "aws",
            region=settings.region,
            default_tags=[AwsProviderDefaultTags(tags=self._provider_tags)],
            **_provider_arguments(overrides),
        )

    def regional_provider(self, alias: str, region: str) -> AwsProvider:
        """A second provider of this stack, ``alias`` in ``region``: the same tags and target as the
        stack's own, for the resources a stack keeps in another region (the DR region's copy)."""
        return AwsProvider(
            self,
            f"aws_{alias}",
            alias=alias,
            region=region,
            default_tags=[AwsProviderDefaultTags(tags=self._provider_tags)],
            **_provider_arguments(self._provider_overrides),
        )

    def _build_backend(self, settings: DeploymentSettings) -> None:
        state = settings.state_backend
        if state is None:
            LocalBackend(self, path=self._local_state_path(settings))
            return
        S3Backend(self, bucket=state.bucket, key=self._state_key(settings), region=state.region, encrypt=True)
        # S3-native state locking (Terraform >= 1.10); cdktf 0.21's S3Backend has no field.
        self.add_override("terraform.backend.s3.use_lockfile", True)
