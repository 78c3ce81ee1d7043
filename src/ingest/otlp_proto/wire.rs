//! Reading protobuf wire bytes where they lie: the fields of one message, in
//! wire order, with their payloads borrowed (strings checked to be UTF-8).

use super::transcode::ProtoError;

/// One field's payload.
#[derive(Debug, Clone, Copy)]
pub(super) enum Val<'a> {
    Varint(u64),
    I64(u64),
    Len(&'a [u8]),
    I32,
}

/// The fields of one message, in wire order.
pub(super) struct Fields<'a> {
    buf: &'a [u8],
    failed: bool,
}

impl<'a> Fields<'a> {
    pub(super) fn new(buf: &'a [u8]) -> Fields<'a> {
        Fields { buf, failed: false }
    }

    fn varint(&mut self) -> Result<u64, ProtoError> {
        let mut v: u64 = 0;
        for i in 0..10 {
            let (&b, rest) = self.buf.split_first().ok_or(ProtoError::Decode)?;
            self.buf = rest;
            if i == 9 && b > 1 {
                return Err(ProtoError::Decode);
            }
            v |= u64::from(b & 0x7f) << (7 * i);
            if b < 0x80 {
                return Ok(v);
            }
        }
        Err(ProtoError::Decode)
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], ProtoError> {
        if n > self.buf.len() {
            return Err(ProtoError::Decode);
        }
        let (head, rest) = self.buf.split_at(n);
        self.buf = rest;
        Ok(head)
    }

    fn field(&mut self) -> Result<(u32, Val<'a>), ProtoError> {
        let key = self.varint()?;
        let number = u32::try_from(key >> 3).map_err(|_| ProtoError::Decode)?;
        if number == 0 {
            return Err(ProtoError::Decode);
        }
        let val = match key & 7 {
            0 => Val::Varint(self.varint()?),
            1 => {
                let b = self.take(8)?;
                let mut a = [0u8; 8];
                a.copy_from_slice(b);
                Val::I64(u64::from_le_bytes(a))
            }
            2 => {
                let n = usize::try_from(self.varint()?).map_err(|_| ProtoError::Decode)?;
                Val::Len(self.take(n)?)
            }
            5 => {
                self.take(4)?;
                Val::I32
            }
            _ => return Err(ProtoError::Decode),
        };
        Ok((number, val))
    }
}

impl<'a> Iterator for Fields<'a> {
    type Item = Result<(u32, Val<'a>), ProtoError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.buf.is_empty() {
            return None;
        }
        let f = self.field();
        self.failed = f.is_err();
        Some(f)
    }
}

pub(super) fn text(b: &[u8]) -> Result<&str, ProtoError> {
    std::str::from_utf8(b).map_err(|_| ProtoError::Decode)
}
