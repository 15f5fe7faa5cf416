"""Small shared runtime for serverless-ml Lambda handlers.

Modules import only the standard library, numpy and onnxruntime at import time, so a handler's INIT
stays lean; boto3 loads on first use (see ``aws``). Import the modules you need directly.
"""
