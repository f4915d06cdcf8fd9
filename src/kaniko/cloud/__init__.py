"""Cloud credentials: where kaniko finds AWS, Google Cloud and Azure identities.

One module per cloud, each exposing functions that return credentials or tokens and raise
:class:`~kaniko.errors.CredentialsError` with one line listing every source it tried.
The build-context sources (:mod:`kaniko.context`) use them for S3, GCS and Azure Blob
objects; registry logins to ECR, GCR/Artifact Registry and ACR use the same chains.

- :mod:`kaniko.cloud.aws`: botocore's standard chain (environment, shared config and
  credentials files, SSO, ``credential_process``, web identity / IRSA, container and
  instance metadata).
- :mod:`kaniko.cloud.gcp`: google-auth's application default credentials (a key file,
  the gcloud ADC file, workload identity federation, the metadata server).
- :mod:`kaniko.cloud.azure`: a storage account key, SAS tokens, and Microsoft Entra
  tokens from a client secret, a federated (workload identity) token or managed identity.

Every secret found is registered with :mod:`kaniko.redact`, so it never reaches a log.
"""
