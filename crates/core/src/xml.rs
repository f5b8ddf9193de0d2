//! placeholder: being written
#[derive(Debug, thiserror::Error)]
#[error("xml")]
pub struct XmlError;
