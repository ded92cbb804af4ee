meta:
  id: qcow2_structures
  endian: be
types:
  header_extension:
    seq:
      - id: magic
        type: u4
      - id: length
        type: u4
      - id: data
        size: length
      - id: padding
        size: (8 - (length % 8)) % 8
  bitmap_directory_entry:
    seq:
      - id: table_offset
        type: u8
      - id: table_size
        type: u4
        valid:
          min: 1
          max: 0x8000000
      - id: flags
        type: u4
        valid:
          expr: (_ & ~3) == 0
      - id: type
        type: u1
        valid: 1
      - id: granularity_bits
        type: u1
        valid:
          min: 9
          max: 31
      - id: name_size
        type: u2
        valid:
          max: 1023
      - id: extra_data_size
        type: u4
        valid: 0
      - id: extra_data
        size: extra_data_size
      - id: name
        size: name_size
      - id: padding
        size: (8 - ((24 + extra_data_size + name_size) % 8)) % 8
