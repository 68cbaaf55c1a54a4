package dev.jvmm.kvm.testing;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.extension.ExtendWith;

/** A test that boots guest images (the boot tier): needs arm64 /dev/kvm and JVMM_IMAGES. */
@Target({ElementType.TYPE, ElementType.METHOD})
@Retention(RetentionPolicy.RUNTIME)
@Tag("boot")
@ExtendWith(Arm64KvmCondition.class)
public @interface BootTest {}
