"""A bucket as every one of the platform's (the batch bucket, the give-up bucket, the DR copy)."""

from __future__ import annotations

from cdktf_cdktf_provider_aws.data_aws_iam_policy_document import DataAwsIamPolicyDocument
from cdktf_cdktf_provider_aws.kms_key import KmsKey
from cdktf_cdktf_provider_aws.s3_bucket import S3Bucket
from cdktf_cdktf_provider_aws.s3_bucket_lifecycle_configuration import (
    S3BucketLifecycleConfiguration,
    S3BucketLifecycleConfigurationRule,
)
from cdktf_cdktf_provider_aws.s3_bucket_ownership_controls import (
    S3BucketOwnershipControls,
    S3BucketOwnershipControlsRule,
)
from cdktf_cdktf_provider_aws.s3_bucket_policy import S3BucketPolicy
from cdktf_cdktf_provider_aws.s3_bucket_public_access_block import S3BucketPublicAccessBlock
from cdktf_cdktf_provider_aws.s3_bucket_server_side_encryption_configuration import (
    S3BucketServerSideEncryptionConfigurationA,
    S3BucketServerSideEncryptionConfigurationRuleA,
    S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA,
)
from cdktf_cdktf_provider_aws.s3_bucket_versioning import (
    S3BucketVersioningA,
    S3BucketVersioningVersioningConfiguration,
)
from constructs import Construct

from lib.components.policies import condition, statement


def private_bucket(
    scope: Construct,
    construct_id: str,
    name: str,
    *,
    key: KmsKey,
    versioning: bool,
    lifecycle: S3BucketLifecycleConfigurationRule,
) -> S3Bucket:
    """A bucket as every one of the platform's: owner-enforced, never public, SSE-KMS with the
    platform key (bucket key on), TLS only, and ``lifecycle`` (each bucket says how its objects age)."""
    bucket = S3Bucket(scope, construct_id, bucket=name, force_destroy=True)
    S3BucketOwnershipControls(
        scope,
        f"{construct_id}_ownership",
        bucket=bucket.id,
        rule=S3BucketOwnershipControlsRule(object_ownership="BucketOwnerEnforced"),
    )
    S3BucketPublicAccessBlock(
        scope,
        f"{construct_id}_public_access",
        bucket=bucket.id,
        block_public_acls=True,
        block_public_policy=True,
        ignore_public_acls=True,
        restrict_public_buckets=True,
    )
    S3BucketServerSideEncryptionConfigurationA(
        scope,
        f"{construct_id}_encryption",
        bucket=bucket.id,
        rule=[
            S3BucketServerSideEncryptionConfigurationRuleA(
                apply_server_side_encryption_by_default=S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA(
                    sse_algorithm="aws:kms", kms_master_key_id=key.arn
                ),
                bucket_key_enabled=True,
            )
        ],
    )
    S3BucketVersioningA(
        scope,
        f"{construct_id}_versioning",
        bucket=bucket.id,
        versioning_configuration=S3BucketVersioningVersioningConfiguration(
            status="Enabled" if versioning else "Suspended"
        ),
    )
    S3BucketLifecycleConfiguration(scope, f"{construct_id}_lifecycle", bucket=bucket.id, rule=[lifecycle])
    document = DataAwsIamPolicyDocument(
        scope,
        f"{construct_id}_policy_document",
        statement=[
            statement(
                "DenyInsecureTransport",
                ["s3:*"],
                [bucket.arn, f"{bucket.arn}/*"],
                effect="Deny",
                any_principal=True,
                conditions=[condition("Bool", "aws:SecureTransport", ["false"])],
            )
        ],
    )
    S3BucketPolicy(scope, f"{construct_id}_policy", bucket=bucket.id, policy=document.json)
    return bucket
