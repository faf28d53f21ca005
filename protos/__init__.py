"""Protocol-buffer schema of Deep-CEE pipeline configs and label maps.

The ``*.proto`` files are the source; the ``*_pb2.py`` modules beside them are generated
from them by :mod:`protos.generate` and committed, so users never run ``protoc``. The text
format is that of the TF Object Detection API's ``pipeline.proto`` for the fields Deep-CEE
uses; the proto package is ``deepcee.protos`` so the messages never clash with the OD API's
``object_detection.protos`` in a shared descriptor pool.
"""
