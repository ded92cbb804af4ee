meta:
  id: png
  endian: be
seq:
  - id: signature
    contents: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
  - id: chunks
    type: chunk
    repeat: until
    repeat-until: _.type == 0x49454E44
types:
  chunk:
    seq:
      - id: length
        type: u4
      - id: type
        type: u4
      - id: data
        size: length
        type:
          switch-on: type
          cases:
            0x49484452: image_header
            0x504C5445: palette
      - id: crc
        type: u4
        # no CRC check in Kaitai: needs code outside the .ksy
  image_header:
    seq:
      - id: width
        type: u4
      - id: height
        type: u4
      - id: bit_depth
        type: u1
      - id: color_type
        type: u1
        valid:
          any-of: [0, 2, 3, 4, 6]
      - id: compression
        type: u1
      - id: filter
        type: u1
      - id: interlace
        type: u1
  color:
    seq:
      - id: red
        type: u1
      - id: green
        type: u1
      - id: blue
        type: u1
  palette:
    seq:
      - id: colors
        type: color
        repeat: eos
