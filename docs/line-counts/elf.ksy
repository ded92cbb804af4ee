meta:
  id: elf64
  endian: le
types:
  header:
    seq:
      - id: magic
        contents: [0x7F, 0x45, 0x4C, 0x46]
      - id: class
        contents: [2]
      - id: data
        contents: [1]
      - id: ident_version
        type: u1
      - id: os_abi
        type: u1
      - id: ident_padding
        size: 8
      - id: type
        type: u2
      - id: machine
        type: u2
      - id: version
        type: u4
      - id: entry
        type: u8
      - id: program_header_offset
        type: u8
      - id: section_header_offset
        type: u8
      - id: flags
        type: u4
      - id: header_size
        type: u2
      - id: program_header_size
        type: u2
      - id: program_header_count
        type: u2
      - id: section_header_size
        type: u2
      - id: section_header_count
        type: u2
      - id: section_name_table_index
        type: u2
  program_header:
    seq:
      - id: type
        type: u4
      - id: flags
        type: u4
      - id: offset
        type: u8
      - id: virtual_address
        type: u8
      - id: physical_address
        type: u8
      - id: file_size
        type: u8
      - id: memory_size
        type: u8
      - id: alignment
        type: u8
  section_header:
    seq:
      - id: name
        type: u4
      - id: type
        type: u4
      - id: flags
        type: u8
      - id: address
        type: u8
      - id: offset
        type: u8
      - id: size
        type: u8
      - id: link
        type: u4
      - id: info
        type: u4
      - id: alignment
        type: u8
      - id: entry_size
        type: u8
  name:
    seq:
      - id: text
        type: strz
        encoding: ASCII
