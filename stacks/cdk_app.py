"""Entry point of ``cdk synth`` / ``cdk deploy`` (see cdk.json)."""

from serverless_ml.reference.cdk_app import build_app

if __name__ == "__main__":
    build_app().synth()
