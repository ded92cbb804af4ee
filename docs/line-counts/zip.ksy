meta:
  id: zip
  endian: le
types:
  local_file:
    seq:
      - id: signature
        contents: [0x50, 0x4B, 0x03, 0x04]
      - id: version_needed
        type: u2
      - id: flags
        type: u2
      - id: method
        type: u2
      - id: modified_time
        type: u2
      - id: modified_date
        type: u2
      - id: crc32
        type: u4
      - id: compressed_size
        type: u4
      - id: uncompressed_size
        type: u4
      - id: name_length
        type: u2
      - id: extra_length
        type: u2
      - id: name
        type: str
        size: name_length
        encoding: UTF-8
      - id: extra
        size: extra_length
      - id: data
        size: compressed_size
  central_entry:
    seq:
      - id: signature
        contents: [0x50, 0x4B, 0x01, 0x02]
      - id: version_made_by
        type: u2
      - id: version_needed
        type: u2
      - id: flags
        type: u2
      - id: method
        type: u2
      - id: modified_time
        type: u2
      - id: modified_date
        type: u2
      - id: crc32
        type: u4
      - id: compressed_size
        type: u4
      - id: uncompressed_size
        type: u4
      - id: name_length
        type: u2
      - id: extra_length
        type: u2
      - id: comment_length
        type: u2
      - id: disk_start
        type: u2
      - id: internal_attributes
        type: u2
      - id: external_attributes
        type: u4
      - id: local_header_offset
        type: u4
      - id: name
        type: str
        size: name_length
        encoding: UTF-8
      - id: extra
        size: extra_length
      - id: comment
        type: str
        size: comment_length
        encoding: UTF-8
  end_of_central_directory:
    seq:
      - id: signature
        contents: [0x50, 0x4B, 0x05, 0x06]
      - id: disk_number
        type: u2
      - id: central_directory_disk
        type: u2
      - id: entries_on_disk
        type: u2
      - id: entry_count
        type: u2
      - id: central_directory_size
        type: u4
      - id: central_directory_offset
        type: u4
      - id: comment_length
        type: u2
      - id: comment
        type: str
        size: comment_length
        encoding: UTF-8
