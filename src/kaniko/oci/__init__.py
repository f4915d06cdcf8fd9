"""The image model: digests, media types, manifests, configs, and the Layer/Image protocol.

Pure data and streams, no I/O beyond the streams handed in: :mod:`.image` defines the
protocol every image source and sink implements, :mod:`.canonical` writes JSON byte for
byte as Go does (so digests match), :mod:`.compress` is the one codec path (gzip through
ISA-L, zstd) and :mod:`.streams` spools a layer tar into a compressed blob in one pass.
"""
